import assert from "node:assert/strict";
import { test } from "node:test";
import { transientError } from "../../src/core/errors.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { bulkhead } from "../../src/resilience/bulkhead.js";
import { circuitBreaker } from "../../src/resilience/circuit-breaker.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { instrumentPolicy } from "../../src/resilience/instrument.js";
import { pipeline } from "../../src/resilience/pipeline.js";
import { retry } from "../../src/resilience/retry.js";

test("policy events of a whole pipeline become Prometheus metrics, and dispose stops them", async () => {
  const clock = new FakeClock();
  const metrics = new JunctionMetrics({ defaultMetrics: false });
  const breaker = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 2 }, openDurationMs: 1000, clock });
  const policy = pipeline(retry({ maxAttempts: 2, backoff: { kind: "constant", baseDelayMs: 10, maxDelayMs: 10, jitter: "none" }, clock }), breaker, bulkhead({ maxConcurrent: 1 }));
  const handle = instrumentPolicy(policy, metrics, "payments");

  const failing = policy.execute(async () => {
    throw transientError("down");
  });
  const settled = failing.catch((error: unknown) => error);
  await clock.advance(10);
  assert.ok((await settled) instanceof Error);
  const text = await metrics.metrics();
  assert.match(text, /junction_policy_events_total\{policy="retry",name="payments",event="retry"\} 1/);
  assert.match(text, /junction_policy_events_total\{policy="retry",name="payments",event="give_up"\} 1/);
  assert.match(text, /junction_policy_events_total\{policy="circuit_breaker",name="payments",event="open"\} 1/);
  assert.match(text, /junction_circuit_state\{name="payments"\} 2/);
  assert.match(text, /junction_retries_total\{integration="payments",stage="policy"\} 1/);

  handle.dispose();
  breaker.reset();
  const after = await metrics.metrics();
  assert.match(after, /junction_circuit_state\{name="payments"\} 2/, "no longer updated once disposed");
});
