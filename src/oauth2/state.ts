import { createHash, timingSafeEqual } from "node:crypto";
import { randomUrlSafe } from "./pkce.js";

/** A fresh `state` value: 32 crypto-random bytes (256 bits) as base64url. */
export function createState(): string {
  return randomUrlSafe(32);
}

/**
 * True when the `state` that came back on the redirect is the one this session sent.
 * The comparison is constant-time: both sides are hashed to the same length first, so neither
 * the content nor the length of the expected value leaks through timing. A missing or empty
 * value on either side is a mismatch.
 */
export function verifyState(expected: string | null | undefined, received: string | null | undefined): boolean {
  if (typeof expected !== "string" || typeof received !== "string" || expected.length === 0 || received.length === 0) return false;
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(received, "utf8").digest();
  return timingSafeEqual(a, b);
}
