import { createHash, randomBytes } from "node:crypto";

/** `bytes` of crypto-random data as base64url (only `A-Z a-z 0-9 - _`, no padding). */
export function randomUrlSafe(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

/**
 * A PKCE `code_verifier` (RFC 7636 §4.1): 32 random bytes as base64url, 43 characters of the
 * unreserved set, 256 bits of entropy.
 */
export function createCodeVerifier(): string {
  return randomUrlSafe(32);
}

/** The S256 `code_challenge` of a verifier: base64url(sha256(ascii(verifier))) (RFC 7636 §4.2). */
export function codeChallengeS256(codeVerifier: string): string {
  return createHash("sha256").update(codeVerifier, "ascii").digest("base64url");
}

const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/** True when `value` is a valid `code_verifier`: 43–128 characters of `A-Z a-z 0-9 - . _ ~`. */
export function isValidCodeVerifier(value: string): boolean {
  return VERIFIER_PATTERN.test(value);
}
