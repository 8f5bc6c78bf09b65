import { configError } from "../core/errors.js";

/** Rejects a limiter option that is not a finite number greater than zero. */
export function requirePositive(owner: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw configError(`${owner}: "${name}" must be a positive number, got ${String(value)}`, { code: "rate_limit.invalid_option" });
  }
}

/** Validates the permits of one request: more than the limit could never be granted. */
export function requirePermits(owner: string, permits: number, limit: number): void {
  if (!Number.isFinite(permits) || permits < 0) {
    throw configError(`${owner}: permits must be a number >= 0, got ${String(permits)}`, { code: "rate_limit.invalid_permits" });
  }
  if (permits > limit) {
    throw configError(`${owner}: asked for ${permits} permits but the limit is ${limit}; such a request can never pass, raise the limit or split the request`, {
      code: "rate_limit.invalid_permits",
    });
  }
}

/** Tolerance for float noise in token and window arithmetic (far below one permit). */
export const RATE_EPSILON = 1e-9;

/** Whole milliseconds to wait, rounding up but ignoring float noise such as 300.00000000000006. */
export function ceilMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - 1e-6));
}

/** Default bound on the number of keys an in-process limiter remembers. */
export const DEFAULT_MAX_KEYS = 10_000;
