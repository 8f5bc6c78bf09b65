import { timingSafeEqual } from "node:crypto";

/**
 * Compares two byte strings in time that depends only on their lengths. `timingSafeEqual` throws on
 * different lengths, so that case still runs a comparison of the same size before failing: no early exit
 * that a caller could time, and no exception for a truncated or padded signature.
 */
export function constantTimeEqual(expected: Buffer, received: Buffer): boolean {
  if (expected.length !== received.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, received);
}

/** Compares an encoded signature (hex, base64) byte for byte with the one we computed. */
export function signatureMatches(expected: string, received: string): boolean {
  return constantTimeEqual(Buffer.from(expected, "latin1"), Buffer.from(received, "latin1"));
}
