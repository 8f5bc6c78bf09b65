import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_SCHEDULE_MS, DeliverySchedule } from "../../../src/webhooks/outbound/delivery-schedule.js";
import { EndpointHealth, attemptVerdict } from "../../../src/webhooks/outbound/endpoint-verdict.js";

test("the default schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; nothing after the eighth attempt", () => {
  const schedule = new DeliverySchedule({ jitter: 0 });
  assert.equal(schedule.attempts, 8);
  const delays = Array.from({ length: 8 }, (_, i) => schedule.delayBefore(i + 1));
  assert.deepEqual(delays, [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  assert.deepEqual(delays, [...DEFAULT_SCHEDULE_MS]);
  assert.equal(schedule.delayBefore(9), undefined);
  assert.equal(schedule.delayBefore(0), undefined);
});

test("jitter spreads each delay by ±20 % by default, and different senders land at different times", () => {
  const schedule = new DeliverySchedule();
  assert.equal(schedule.delayBefore(3, undefined, () => 0), 240_000);
  assert.equal(schedule.delayBefore(3, undefined, () => 1), 360_000);
  const spread = new Set(Array.from({ length: 50 }, () => schedule.delayBefore(3)));
  assert.ok(spread.size > 40, "delays differ from one delivery to the next");
  for (const delay of spread) assert.ok((delay as number) >= 240_000 && (delay as number) <= 360_000);
});

test("Retry-After moves an attempt later, never earlier, and is capped", () => {
  const schedule = new DeliverySchedule({ jitter: 0, maxRetryAfterMs: 3_600_000 });
  assert.equal(schedule.delayBefore(2, 60_000), 60_000, "the endpoint asked for a minute: not after 5 s");
  assert.equal(schedule.delayBefore(3, 1_000), 300_000, "a shorter Retry-After does not hurry the schedule");
  assert.equal(schedule.delayBefore(2, 7 * 86_400_000), 3_600_000);
});

test("a scaled schedule runs the same steps faster (tests), and bad schedules are refused", () => {
  const fast = new DeliverySchedule({ jitter: 0, scale: 0.001 });
  assert.deepEqual([1, 2, 3, 4].map((attempt) => fast.delayBefore(attempt)), [0, 5, 300, 1_800]);
  assert.throws(() => new DeliverySchedule({ delaysMs: [] }), /at least one attempt/);
  assert.throws(() => new DeliverySchedule({ delaysMs: [0, -1] }), /not negative/);
  assert.throws(() => new DeliverySchedule({ jitter: 1 }), /below 1/);
});

test("only 2xx is delivered; 410 disables the endpoint; everything else is retried, with Retry-After kept", () => {
  assert.deepEqual(attemptVerdict(200), { outcome: "delivered" });
  assert.deepEqual(attemptVerdict(204), { outcome: "delivered" });
  assert.deepEqual(attemptVerdict(410), { outcome: "disable_endpoint", reason: "the endpoint answered 410 Gone" });
  for (const status of [301, 302, 400, 401, 404, 408, 429, 500, 503]) assert.equal(attemptVerdict(status).outcome, "retry", String(status));
  assert.deepEqual(attemptVerdict(undefined), { outcome: "retry" }, "no answer (network error, timeout)");
  assert.deepEqual(attemptVerdict(429, 30_000), { outcome: "retry", retryAfterMs: 30_000 });
});

test("an endpoint failing without a success for the whole window is to be disabled; a success resets it", () => {
  const day = 86_400_000;
  const health = new EndpointHealth({ disableAfterMs: 5 * day });
  assert.equal(health.failed(0), false);
  assert.equal(health.failed(4 * day), false);
  health.succeeded();
  assert.equal(health.failingSince, undefined);
  assert.equal(health.failed(4.5 * day), false, "the run starts again after a success");
  assert.equal(health.failed(9 * day), false);
  assert.equal(health.failed(9.5 * day), true);
  assert.equal(new EndpointHealth({}, 0).failed(5 * day), true, "the default window is 5 days, and the start survives a restart");
});
