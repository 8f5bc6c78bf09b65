import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { HealthResult } from "../../src/core/health.js";
import { SecretRedactor } from "../../src/core/redact.js";
import { HealthRegistry, isReady } from "../../src/observability/health.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";

const healthy = async (): Promise<HealthResult> => ({ status: "healthy", latencyMs: 3 });
const degraded = async (): Promise<HealthResult> => ({ status: "degraded", latencyMs: 4, detail: "replica lag 12s" });
const unhealthy = async (): Promise<HealthResult> => ({ status: "unhealthy", latencyMs: 5, detail: "connection refused" });

/** A check that only ends when its signal aborts, like a request to a host that never answers. */
function hanging(observed: { aborted?: boolean }) {
  return (signal: AbortSignal): Promise<HealthResult> =>
    new Promise((_, reject) => {
      if (signal.aborted) {
        observed.aborted = true;
        reject(signal.reason);
        return;
      }
      signal.addEventListener(
        "abort",
        () => {
          observed.aborted = true;
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

describe("HealthRegistry", () => {
  test("an empty registry is healthy and ready", async () => {
    const report = await new HealthRegistry().check();
    assert.equal(report.status, "healthy");
    assert.deepEqual(report.checks, {});
    assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
    assert.equal(isReady(report), true);
  });

  test("a required unhealthy check makes the report unhealthy and not ready", async () => {
    const registry = new HealthRegistry();
    registry.register("db", unhealthy);
    registry.register("api", healthy);
    const report = await registry.check();
    assert.equal(report.status, "unhealthy");
    assert.deepEqual(report.checks.db, { status: "unhealthy", latencyMs: 5, detail: "connection refused", required: true });
    assert.deepEqual(report.checks.api, { status: "healthy", latencyMs: 3, required: true });
    const readiness = await registry.ready();
    assert.equal(readiness.ready, false);
    assert.deepEqual(readiness.failing, ["db"]);
  });

  test("an optional unhealthy check only degrades the report and keeps it ready", async () => {
    const registry = new HealthRegistry();
    registry.register("db", healthy);
    registry.register("cache", unhealthy, { required: false });
    const report = await registry.check();
    assert.equal(report.status, "degraded");
    assert.equal(report.checks.cache?.required, false);
    assert.equal(isReady(report), true);
  });

  test("a degraded required check is degraded and still ready", async () => {
    const registry = new HealthRegistry();
    registry.register("db", degraded);
    const report = await registry.check();
    assert.equal(report.status, "degraded");
    assert.equal(isReady(report), true);
  });

  test("a check that outlives its timeout is unhealthy and its signal is aborted", async () => {
    const registry = new HealthRegistry();
    const observed: { aborted?: boolean } = {};
    registry.register("slow", hanging(observed), { timeoutMs: 20 });
    registry.register("deaf", () => new Promise<HealthResult>(() => {}), { timeoutMs: 20, required: false });
    registry.register("fast", healthy);
    const report = await registry.check();
    assert.equal(report.checks.deaf?.status, "unhealthy", "a check that ignores its signal is cut off too");
    assert.equal(report.checks.slow?.status, "unhealthy");
    assert.match(report.checks.slow?.detail ?? "", /timed out after 20ms/);
    assert.equal(observed.aborted, true);
    assert.equal(report.checks.fast?.status, "healthy");
  });

  test("the caller's signal aborts every check", async () => {
    const registry = new HealthRegistry();
    const observed: { aborted?: boolean } = {};
    registry.register("slow", hanging(observed), { timeoutMs: 60_000 });
    const controller = new AbortController();
    const checking = registry.check(controller.signal);
    controller.abort(new Error("shutting down"));
    const report = await checking;
    assert.equal(observed.aborted, true);
    assert.deepEqual([report.checks.slow?.status, report.checks.slow?.detail], ["unhealthy", "shutting down"]);
  });

  test("a throwing check is unhealthy with its redacted message and a measured latency", async () => {
    const redactor = new SecretRedactor();
    redactor.add("topsecret-password");
    const registry = new HealthRegistry({ redactor });
    registry.register("async-throw", async () => {
      throw new Error("auth failed with topsecret-password");
    });
    registry.register("sync-throw", () => {
      throw new Error("not connected");
    });
    registry.register("no-latency", async () => ({ status: "healthy" }) as unknown as HealthResult);
    registry.register("nonsense", async () => undefined as unknown as HealthResult);
    const report = await registry.check();
    assert.deepEqual(report.checks["async-throw"]?.status, "unhealthy");
    assert.equal(report.checks["async-throw"]?.detail, "auth failed with [redacted]");
    assert.equal(report.checks["sync-throw"]?.detail, "not connected");
    assert.equal(typeof report.checks["no-latency"]?.latencyMs, "number");
    assert.ok((report.checks["no-latency"]?.latencyMs ?? -1) >= 0);
    assert.equal(report.checks.nonsense?.status, "unhealthy");
  });

  test("setDegraded overlays a check or adds one of its own, and clears", async () => {
    const registry = new HealthRegistry();
    registry.register("db", healthy);
    registry.register("broker", unhealthy, { required: false });
    registry.setDegraded("db", "error rate 30% above 10%");
    registry.setDegraded("broker", "slow");
    registry.setDegraded("integration:orders", "p95 latency above 500ms");
    let report = await registry.check();
    assert.equal(report.status, "degraded");
    assert.deepEqual(report.checks.db, { status: "degraded", latencyMs: 3, detail: "error rate 30% above 10%", required: true });
    assert.equal(report.checks.broker?.status, "unhealthy", "an overlay never improves a check");
    assert.equal(report.checks.broker?.detail, "connection refused; slow");
    assert.deepEqual(report.checks["integration:orders"], { status: "degraded", latencyMs: 0, detail: "p95 latency above 500ms", required: false });
    assert.deepEqual(registry.degradedNames().sort(), ["broker", "db", "integration:orders"]);

    registry.setDegraded("db", undefined);
    registry.setDegraded("broker", undefined);
    registry.setDegraded("integration:orders", undefined);
    report = await registry.check();
    assert.equal(report.status, "degraded");
    assert.equal(report.checks.db?.status, "healthy");
    assert.equal(report.checks["integration:orders"], undefined);
  });

  test("updates junction_connection_up and forgets unregistered checks", async () => {
    const metrics = new JunctionMetrics({ defaultMetrics: false });
    const registry = new HealthRegistry({ metrics });
    registry.register("db", degraded);
    registry.register("queue", unhealthy);
    await registry.check();
    let text = await metrics.metrics();
    assert.match(text, /junction_connection_up\{connection="db"\} 1/);
    assert.match(text, /junction_connection_up\{connection="queue"\} 0/);
    assert.equal(registry.unregister("queue"), true);
    text = await metrics.metrics();
    assert.doesNotMatch(text, /connection="queue"/);
    assert.deepEqual(Object.keys((await registry.check()).checks), ["db"]);
  });

  test("refuses a second check with the same name", () => {
    const registry = new HealthRegistry();
    registry.register("db", healthy);
    assert.throws(() => registry.register("db", healthy), /already registered/);
  });
});
