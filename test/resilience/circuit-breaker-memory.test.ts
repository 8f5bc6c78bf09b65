import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { circuitBreaker } from "../../src/resilience/circuit-breaker.js";
import type { CircuitBreakerPolicy } from "../../src/resilience/circuit-breaker.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";

/** A full garbage collection, when the runtime lets us ask for one. */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test("10,000 count-window breakers of size 100 take less than 10 MB, even after each was used", async (t) => {
  const gc = collector();
  if (!gc) {
    t.skip("no way to force a garbage collection here, so heap growth would be noise; run node with --expose-gc");
    return;
  }
  const clock = new FakeClock();
  const window = { kind: "count", size: 100, minimumCalls: 20, failureRateThreshold: 0.5 } as const;
  gc();
  const before = used();
  const breakers: CircuitBreakerPolicy[] = [];
  for (let i = 0; i < 10_000; i++) breakers.push(circuitBreaker({ window, openDurationMs: 30_000, clock }));
  gc();
  const idle = used() - before;
  for (const breaker of breakers) await breaker.execute(() => undefined);
  gc();
  const used1 = used() - before;
  t.diagnostic(`idle: ${(idle / 1e6).toFixed(2)} MB, after one call each: ${(used1 / 1e6).toFixed(2)} MB`);
  assert.equal(breakers.length, 10_000);
  assert.ok(idle < 10e6, `idle breakers took ${idle} bytes`);
  assert.ok(used1 < 10e6, `used breakers took ${used1} bytes`);
});
