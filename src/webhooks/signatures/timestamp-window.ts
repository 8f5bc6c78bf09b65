import { configError } from "../../core/errors.js";
import { rejected } from "./verify-result.js";
import type { VerifyFailure } from "./types.js";

export const DEFAULT_TOLERANCE_SECONDS = 300;

const UNIX_SECONDS = /^\d{1,12}$/;

/** Parses a unix-seconds timestamp header strictly: digits only, no sign, no fraction, no trailing text. */
export function parseUnixSeconds(value: string, header: string): number | VerifyFailure {
  if (!UNIX_SECONDS.test(value)) return rejected("malformed", `${header} must be a unix timestamp in seconds`);
  return Number(value);
}

/** Rejects timestamps outside ±tolerance of `nowMs`: old ones are replays or late retries, future ones are forged or skewed clocks. */
export function checkTimestampWindow(timestamp: number, nowMs: number, toleranceSeconds: number): VerifyFailure | undefined {
  const nowSeconds = Math.floor(nowMs / 1000);
  if (nowSeconds - timestamp > toleranceSeconds) {
    return rejected("stale", `timestamp is more than ${toleranceSeconds}s old: the delivery is late or replayed`);
  }
  if (timestamp - nowSeconds > toleranceSeconds) {
    return rejected("future", `timestamp is more than ${toleranceSeconds}s in the future: check the sender's clock`);
  }
  return undefined;
}

export function requireTolerance(value: number | undefined, what: string): number {
  const tolerance = value ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance <= 0) {
    throw configError(`${what}: tolerance must be a positive number of seconds (replay protection cannot be turned off)`);
  }
  return tolerance;
}
