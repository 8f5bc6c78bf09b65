import type { DeliveryOutcome } from "../../state/webhook-types.js";
import type { DeliverySchedule } from "./delivery-schedule.js";
import { attemptVerdict } from "./endpoint-verdict.js";
import type { AttemptResult } from "./webhook-sender.js";

export interface AttemptDecision {
  /** The delivery's state after the attempt. */
  outcome: DeliveryOutcome;
  /** The attempt failed: it counts towards the endpoint's run of failures. */
  endpointFailed: boolean;
  /** Set when the endpoint is to be disabled at once (410 Gone). */
  disableReason?: string;
}

/**
 * What one attempt means: 2xx is delivered; 410 fails the delivery and disables the
 * endpoint; a refused address fails the delivery at once (it is a configuration problem
 * that retrying cannot fix); anything else is tried again on the schedule — `Retry-After`
 * moving the next attempt later — until the schedule is used up.
 */
export function decideAttempt(result: AttemptResult, attempt: number, schedule: DeliverySchedule, now: number): AttemptDecision {
  if (result.refused) return { outcome: { status: "failed" }, endpointFailed: true };
  const verdict = attemptVerdict(result.status, result.retryAfterMs);
  if (verdict.outcome === "delivered") return { outcome: { status: "delivered" }, endpointFailed: false };
  if (verdict.outcome === "disable_endpoint") return { outcome: { status: "failed" }, endpointFailed: true, disableReason: verdict.reason };
  const delay = schedule.delayBefore(attempt + 1, verdict.retryAfterMs);
  if (delay === undefined) return { outcome: { status: "failed" }, endpointFailed: true };
  return { outcome: { status: "pending", nextAttemptAt: new Date(now + delay) }, endpointFailed: true };
}
