import { rejected } from "./verify-result.js";
import type { VerifyFailure } from "./types.js";

/**
 * Signatures cover the exact bytes received. A parsed-and-re-serialised body (different spacing, key order,
 * escapes) no longer matches, and accepting it would let verification pass on bytes nobody signed.
 */
export function rawBody(body: unknown): Buffer | VerifyFailure {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return rejected("malformed", "the body must be the raw request bytes (a Buffer), not a parsed or re-serialised value");
}

export function isFailure(value: unknown): value is VerifyFailure {
  return typeof value === "object" && value !== null && (value as { ok?: unknown }).ok === false;
}
