import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { transientError } from "../../src/core/errors.js";
import { SecretRedactor } from "../../src/core/redact.js";
import { IntegrationRunner } from "../../src/engine/runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { buildCallPolicy } from "../../src/resilience/from-config.js";
import { openStateStore } from "../../src/state/open.js";
import type { StateStore } from "../../src/state/types.js";
import { ArraySource, RecordingSink, numberedBatches, testIntegration } from "../support/engine-fixtures.js";

let state: StateStore;
before(async () => {
  state = await openStateStore("sqlite::memory:");
});
after(async () => {
  await state.close();
});

test("a circuit breaker around sink writes opens on a failing target, fails fast, then closes and everything is written", async () => {
  const integration = testIntegration({
    name: "guarded",
    concurrency: 1,
    batching: { count: 5, bytes: 1 << 20, periodMs: 5 },
    resilience: {
      retry: { attempts: 20, backoff: "constant", baseDelayMs: 1, maxDelayMs: 1, jitter: "none" },
      timeoutMs: 0,
      timeoutStrategy: "cooperative",
      circuitBreaker: { window: { kind: "consecutive", failureThreshold: 3 }, openDurationMs: 40, halfOpenMaxProbes: 1, successThreshold: 1 },
    },
  });
  let down = true;
  setTimeout(() => (down = false), 60);
  const sink = new RecordingSink();
  const failing = {
    calls: 0,
    async write(...args: Parameters<RecordingSink["write"]>) {
      this.calls++;
      if (down) throw transientError("target unreachable");
      return sink.write(...args);
    },
  };
  const metrics = new JunctionMetrics({ defaultMetrics: false });
  const transitions: string[] = [];
  const call = buildCallPolicy(integration.resilience, { name: "guarded", metrics, onStateChange: (e) => transitions.push(e.to) });
  const source = new ArraySource(numberedBatches(2, 5));
  const runner = new IntegrationRunner({
    integration,
    source,
    sink: failing,
    transforms: [],
    state,
    logger: createLogger({ level: "silent" }),
    metrics,
    redactor: new SecretRedactor(),
    call: call.policy,
  });
  const stop = new AbortController();
  const summary = await runner.run({ trigger: "once", stop: stop.signal, abort: stop.signal });
  await call.dispose();
  assert.equal(summary.status, "succeeded", summary.error);
  assert.equal(summary.run.counts.written, 10);
  assert.equal(summary.run.counts.deadLettered, 0);
  assert.ok(transitions.includes("open"), `the breaker opened: ${transitions.join(" → ")}`);
  assert.equal(transitions.at(-1), "closed");
  assert.ok(summary.run.counts.retried > 0);
  // While open, retries waited for the breaker (its Retry-After) instead of hammering the target.
  assert.ok(failing.calls < 3 + 20, `target called ${failing.calls} times`);
  const exposition = await metrics.metrics();
  assert.match(exposition, /junction_circuit_state\{name="guarded"\} 0/);
});

test("a rate limit around sink writes spaces the writes out", async () => {
  const integration = testIntegration({
    name: "limited",
    concurrency: 4,
    batching: { count: 1, bytes: 1 << 20, periodMs: 1 },
    resilience: {
      retry: { attempts: 3, backoff: "constant", baseDelayMs: 1, maxDelayMs: 1, jitter: "none" },
      timeoutMs: 0,
      timeoutStrategy: "cooperative",
      rateLimit: { algorithm: "token_bucket", limit: 50, perMs: 1000, burst: 5, wait: true },
    },
  });
  const call = buildCallPolicy(integration.resilience, { name: "limited" });
  const sink = new RecordingSink();
  const runner = new IntegrationRunner({
    integration,
    source: new ArraySource(numberedBatches(1, 15)),
    sink,
    transforms: [],
    state,
    logger: createLogger({ level: "silent" }),
    metrics: new JunctionMetrics({ defaultMetrics: false }),
    redactor: new SecretRedactor(),
    call: call.policy,
  });
  const stop = new AbortController();
  const started = performance.now();
  const summary = await runner.run({ trigger: "once", stop: stop.signal, abort: stop.signal });
  const elapsed = performance.now() - started;
  await call.dispose();
  assert.equal(summary.run.counts.written, 15);
  assert.equal(summary.run.counts.deadLettered, 0, "waiting for a permit is not a failure");
  // 5 at once (the burst), the other 10 at 50 per second: at least ~200 ms, a rate floor rather than a speed claim.
  assert.ok(elapsed >= 150, `15 writes with a burst of 5 at 50/s took only ${elapsed.toFixed(0)} ms`);
});
