import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionMetrics } from "../../src/observability/metrics.js";

const EXPECTED_TYPES: Record<string, string> = {
  junction_messages_total: "counter",
  junction_stage_duration_seconds: "histogram",
  junction_retries_total: "counter",
  junction_circuit_state: "gauge",
  junction_dead_letters: "gauge",
  junction_http_requests_total: "counter",
  junction_runs_total: "counter",
  junction_batch_size_messages: "histogram",
  junction_in_flight_messages: "gauge",
  junction_connection_up: "gauge",
};

function typesIn(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1] as string, match[2] as string);
  return types;
}

describe("JunctionMetrics", () => {
  test("exposes every metric with its type and a help text", async () => {
    const metrics = new JunctionMetrics({ defaultMetrics: false });
    const text = await metrics.metrics();
    const types = typesIn(text);
    for (const [name, type] of Object.entries(EXPECTED_TYPES)) {
      assert.equal(types.get(name), type, `${name} should be a ${type}`);
      assert.match(text, new RegExp(`^# HELP ${name} \\S.{20,}$`, "m"), `${name} needs a help text`);
    }
    assert.match(metrics.contentType, /^text\/plain/);
  });

  test("records samples with their labels", async () => {
    const metrics = new JunctionMetrics({ defaultMetrics: false });
    metrics.messagesTotal.inc({ integration: "users", stage: "sink", outcome: "ok" }, 5);
    metrics.stageDuration.observe({ integration: "users", stage: "sink" }, 0.0002);
    metrics.retriesTotal.inc({ integration: "users", stage: "sink" });
    metrics.circuitState.set({ name: "payments" }, 2);
    metrics.deadLetters.set({ integration: "users" }, 7);
    metrics.httpRequestsTotal.inc({ route: "/api/runs/:id", method: "GET", status: "200" });
    metrics.runsTotal.inc({ integration: "users", status: "succeeded" });
    metrics.batchSize.observe({ integration: "users" }, 100);
    metrics.inFlight.set({ integration: "users" }, 3);
    metrics.connectionHealth.set({ connection: "warehouse" }, 1);
    const text = await metrics.metrics();
    for (const line of [
      'junction_messages_total{integration="users",stage="sink",outcome="ok"} 5',
      'junction_stage_duration_seconds_bucket{le="0.00025",integration="users",stage="sink"} 1',
      'junction_stage_duration_seconds_bucket{le="0.0001",integration="users",stage="sink"} 0',
      'junction_stage_duration_seconds_bucket{le="30",integration="users",stage="sink"} 1',
      'junction_retries_total{integration="users",stage="sink"} 1',
      'junction_circuit_state{name="payments"} 2',
      'junction_dead_letters{integration="users"} 7',
      'junction_http_requests_total{route="/api/runs/:id",method="GET",status="200"} 1',
      'junction_runs_total{integration="users",status="succeeded"} 1',
      'junction_batch_size_messages_bucket{le="100",integration="users"} 1',
      'junction_in_flight_messages{integration="users"} 3',
      'junction_connection_up{connection="warehouse"} 1',
    ]) {
      assert.ok(text.includes(line), `missing ${line}`);
    }
  });

  test("two instances in one process keep separate registries", async () => {
    const first = new JunctionMetrics();
    const second = new JunctionMetrics();
    first.runsTotal.inc({ integration: "a", status: "failed" });
    assert.match(await first.metrics(), /junction_runs_total\{integration="a",status="failed"\} 1/);
    assert.doesNotMatch(await second.metrics(), /integration="a"/);
  });

  test("process metrics are on by default and can be turned off", async () => {
    assert.match(await new JunctionMetrics().metrics(), /^# TYPE process_cpu_user_seconds_total counter$/m);
    assert.doesNotMatch(await new JunctionMetrics({ defaultMetrics: false }).metrics(), /process_cpu/);
  });
});
