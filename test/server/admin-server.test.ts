import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { JunctionError } from "../../src/core/errors.js";
import type { HealthResult, HealthStatus } from "../../src/core/health.js";
import { REDACTED, SecretRedactor } from "../../src/core/redact.js";
import { HealthRegistry } from "../../src/observability/health.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { startAdminServer } from "../../src/server/admin-server.js";
import type { AdminServer } from "../../src/server/admin-server.js";
import { openStateStore } from "../../src/state/open.js";
import type { DeadLetter, RunRecord, StateStore } from "../../src/state/types.js";
import { CaptureStream } from "../observability/capture-stream.js";

const SECRET = "sk_live_51HzSecretValue";

describe("admin server", () => {
  let state: StateStore;
  let server: AdminServer;
  let metrics: JunctionMetrics;
  let health: HealthRegistry;
  const logs = new CaptureStream();
  let dbStatus: HealthStatus = "healthy";
  let usersRun: RunRecord;
  let ordersRun: RunRecord;
  let deadLetter: DeadLetter;

  before(async () => {
    state = await openStateStore("sqlite::memory:");
    usersRun = await state.startRun({ integration: "users", trigger: "schedule" });
    await state.finishRun(usersRun.id, { status: "succeeded", counts: { read: 10, written: 10, filtered: 0, deadLettered: 0, retried: 1 } });
    ordersRun = await state.startRun({ integration: "orders", trigger: "manual" });
    await state.finishRun(ordersRun.id, {
      status: "failed",
      counts: { read: 2, written: 1, filtered: 0, deadLettered: 1, retried: 0 },
      error: `payment API rejected key ${SECRET}`,
    });
    deadLetter = await state.addDeadLetter({
      integration: "orders",
      stage: "sink",
      attempts: 3,
      message: { id: "m-1", payload: { amount: 12, card_token: SECRET }, headers: {}, metadata: {}, correlationId: "c-1" },
      error: { kind: "permanent", message: `HTTP 402 for ${SECRET}`, code: "http.status_402" },
    });
    for (let i = 0; i < 4; i++) {
      await state.addDeadLetter({
        integration: "users",
        stage: "transform",
        attempts: 1,
        message: { id: `u-${i}`, payload: { i }, headers: {}, metadata: {}, correlationId: `cu-${i}` },
        error: { kind: "permanent", message: "mapping failed" },
      });
    }

    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    metrics = new JunctionMetrics({ defaultMetrics: false });
    health = new HealthRegistry({ metrics, redactor });
    health.register("db", async (): Promise<HealthResult> => ({ status: dbStatus, latencyMs: 2, detail: dbStatus === "healthy" ? undefined : `login ${SECRET} refused` }));
    health.register("cache", async (): Promise<HealthResult> => ({ status: "healthy", latencyMs: 1 }), { required: false });
    server = await startAdminServer({
      listen: "127.0.0.1:0",
      health,
      metrics,
      state,
      logger: createLogger({ level: "debug", destination: logs, redactor }),
      redactor,
      version: "9.9.9-test",
      routes: (app) => {
        app.get("/hooks/:source", async (request) => ({ received: (request.params as { source: string }).source }));
      },
    });
  });

  after(async () => {
    await server?.close();
    await state?.close();
  });

  async function get(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
    const response = await fetch(`${server.url}${path}`, init);
    const text = await response.text();
    assert.ok(!text.includes(SECRET), `${path} leaked a secret: ${text}`);
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, response };
  }

  test("listens on a free port and describes itself", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(server.url, /:0$/);
    const { status, body } = await get("/");
    assert.equal(status, 200);
    assert.equal(body.version, "9.9.9-test");
  });

  test("GET /health reports every check and answers 503 only when unhealthy", async () => {
    let { status, body } = await get("/health");
    assert.equal(status, 200);
    assert.equal(body.status, "healthy");
    assert.deepEqual(body.checks, {
      db: { status: "healthy", latencyMs: 2, required: true },
      cache: { status: "healthy", latencyMs: 1, required: false },
    });
    assert.ok(!Number.isNaN(Date.parse(String(body.checkedAt))));

    dbStatus = "degraded";
    ({ status, body } = await get("/health"));
    assert.deepEqual([status, body.status], [200, "degraded"]);
    assert.equal((body.checks as Record<string, { detail?: string }>).db?.detail, `login ${REDACTED} refused`);

    dbStatus = "unhealthy";
    ({ status, body } = await get("/health"));
    assert.deepEqual([status, body.status], [503, "unhealthy"]);
    dbStatus = "healthy";
  });

  test("GET /ready is 200 when required checks are up and 503 naming those that are not", async () => {
    health.setDegraded("integration:orders", "error rate above threshold");
    let { status, body } = await get("/ready");
    assert.deepEqual([status, body], [200, { ready: true }]);

    dbStatus = "unhealthy";
    ({ status, body } = await get("/ready"));
    assert.equal(status, 503);
    assert.equal(body.ready, false);
    assert.deepEqual(body.failing, ["db"]);
    assert.deepEqual(Object.keys(body.checks as object), ["db"]);
    dbStatus = "healthy";
    health.setDegraded("integration:orders", undefined);
  });

  test("GET /api/runs lists and filters runs with ISO dates", async () => {
    const first = await get("/api/runs");
    assert.equal(first.status, 200);
    let body = first.body;
    const runs = body.runs as Array<Record<string, unknown>>;
    assert.deepEqual(runs.map((run) => run.id).sort(), [usersRun.id, ordersRun.id].sort());
    for (const run of runs) {
      assert.match(String(run.startedAt), /^\d{4}-\d{2}-\d{2}T.*Z$/);
      assert.match(String(run.finishedAt), /^\d{4}-\d{2}-\d{2}T.*Z$/);
    }

    ({ body } = await get("/api/runs?integration=orders&status=failed"));
    const [failed] = body.runs as Array<Record<string, unknown>>;
    assert.equal((body.runs as unknown[]).length, 1);
    assert.equal(failed?.id, ordersRun.id);
    assert.equal(failed?.error, `payment API rejected key ${REDACTED}`);
    assert.deepEqual(failed?.counts, { read: 2, written: 1, filtered: 0, deadLettered: 1, retried: 0 });

    ({ body } = await get("/api/runs?status=running"));
    assert.deepEqual(body.runs, []);
    ({ body } = await get("/api/runs?limit=1"));
    assert.equal((body.runs as unknown[]).length, 1);
  });

  test("GET /api/runs/:id returns one run or a 404", async () => {
    let { status, body } = await get(`/api/runs/${usersRun.id}`);
    assert.equal(status, 200);
    assert.equal(body.integration, "users");
    assert.equal(body.status, "succeeded");
    assert.equal(body.trigger, "schedule");

    ({ status, body } = await get("/api/runs/does-not-exist"));
    assert.equal(status, 404);
    assert.match(String(body.error), /No run with id "does-not-exist"/);
  });

  test("GET /api/dead-letters pages, counts and redacts", async () => {
    const first = await get("/api/dead-letters?integration=users&limit=3");
    assert.equal(first.status, 200);
    let body = first.body;
    assert.equal(body.total, 4);
    assert.equal(body.limit, 3);
    assert.equal(body.offset, 0);
    assert.equal((body.deadLetters as unknown[]).length, 3);

    ({ body } = await get("/api/dead-letters?integration=users&limit=3&offset=3"));
    assert.equal((body.deadLetters as unknown[]).length, 1);

    ({ body } = await get("/api/dead-letters?integration=orders&status=pending"));
    const [letter] = body.deadLetters as Array<Record<string, unknown>>;
    assert.equal(letter?.id, deadLetter.id);
    assert.deepEqual((letter?.message as { payload: unknown }).payload, { amount: 12, card_token: REDACTED });
    assert.equal((letter?.error as { message: string }).message, `HTTP 402 for ${REDACTED}`);
    assert.match(String(letter?.createdAt), /^\d{4}-\d{2}-\d{2}T.*Z$/);

    ({ body } = await get("/api/dead-letters?status=replayed"));
    assert.deepEqual([body.deadLetters, body.total], [[], 0]);
  });

  test("GET /api/dead-letters/:id returns one dead letter or a 404", async () => {
    let { status, body } = await get(`/api/dead-letters/${deadLetter.id}`);
    assert.equal(status, 200);
    assert.equal(body.stage, "sink");
    assert.equal(body.attempts, 3);
    assert.equal(body.status, "pending");

    ({ status, body } = await get("/api/dead-letters/nope"));
    assert.equal(status, 404);
    assert.match(String(body.error), /No dead letter with id "nope"/);
  });

  test("bad query parameters are a 400 naming the parameter", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["/api/runs?limit=abc", "limit", /"limit" must be an integer from 1 to 1000/],
      ["/api/runs?limit=0", "limit", /"limit"/],
      ["/api/runs?limit=5000", "limit", /"limit"/],
      ["/api/runs?status=done", "status", /"status" must be one of running, succeeded, failed, partial, interrupted/],
      ["/api/runs?integration=", "integration", /"integration" must not be empty/],
      ["/api/runs?integration=a&integration=b", "integration", /"integration" may be given only once/],
      ["/api/runs?offset=2", "offset", /unknown query parameter "offset"/],
      ["/api/dead-letters?offset=-1", "offset", /"offset" must be an integer/],
      ["/api/dead-letters?status=running", "status", /"status" must be one of pending, replayed/],
    ];
    for (const [path, parameter, message] of cases) {
      const { status, body } = await get(path);
      assert.equal(status, 400, path);
      assert.equal(body.parameter, parameter, path);
      assert.match(String(body.error), message, path);
    }
  });

  test("unknown routes are a JSON 404", async () => {
    const { status, body } = await get("/nowhere?x=1");
    assert.equal(status, 404);
    assert.match(String(body.error), /No route for GET \/nowhere\./);
  });

  test("routes added through the routes option are served", async () => {
    const { status, body } = await get("/hooks/github");
    assert.deepEqual([status, body], [200, { received: "github" }]);
  });

  test("echoes the caller's correlation id and logs requests at debug", async () => {
    const { response } = await get(`/api/runs/${usersRun.id}`, { headers: { "x-correlation-id": "corr-admin-1" } });
    assert.equal(response.headers.get("x-correlation-id"), "corr-admin-1");
    const generated = (await get("/health")).response.headers.get("x-correlation-id");
    assert.ok(generated && generated.length > 0);

    const line = logs.jsonLines().find((entry) => entry.correlation_id === "corr-admin-1");
    assert.ok(line, logs.text);
    assert.equal(line.level, "debug");
    assert.equal(line.route, "/api/runs/:id");
    assert.equal(line.status, 200);
    assert.ok(!logs.text.includes(SECRET));
  });

  test("GET /metrics is Prometheus text counting requests by route pattern", async () => {
    await get("/api/runs/abc");
    await get("/api/runs/def");
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const match = /junction_http_requests_total\{route="\/api\/runs\/:id",method="GET",status="404"\} (\d+)/.exec(text);
    assert.ok(match, text);
    assert.ok(Number(match[1]) >= 2);
    assert.doesNotMatch(text, /route="\/api\/runs\/abc"/);
    assert.match(text, /junction_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+/);
    assert.match(text, /junction_connection_up\{connection="db"\} [01]/);
  });
});

describe("startAdminServer failures", () => {
  test("a port in use is a config error that says what to do", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    const state = await openStateStore("sqlite::memory:");
    try {
      await assert.rejects(
        startAdminServer({
          listen: `127.0.0.1:${port}`,
          health: new HealthRegistry(),
          metrics: new JunctionMetrics({ defaultMetrics: false }),
          state,
          logger: createLogger({ level: "silent" }),
          redactor: new SecretRedactor(),
          version: "test",
        }),
        (error: unknown) => {
          assert.ok(error instanceof JunctionError);
          assert.equal(error.kind, "config");
          assert.match(error.message, /Another process is using that port/);
          return true;
        },
      );
    } finally {
      await state.close();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test("a failing store is a JSON 500 with the correlation id, logged as an error", async () => {
    const state = await openStateStore("sqlite::memory:");
    const logs = new CaptureStream();
    const server = await startAdminServer({
      listen: "127.0.0.1:0",
      health: new HealthRegistry(),
      metrics: new JunctionMetrics({ defaultMetrics: false }),
      state,
      logger: createLogger({ level: "info", destination: logs }),
      redactor: new SecretRedactor(),
      version: "test",
    });
    try {
      await state.close();
      const response = await fetch(`${server.url}/api/runs`, { headers: { "x-correlation-id": "corr-500" } });
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: string };
      assert.match(body.error, /^Internal error: .+\. See the logs for correlation id corr-500\.$/);
      const logged = logs.jsonLines().find((line) => line.correlation_id === "corr-500");
      assert.equal(logged?.level, "error");
      assert.equal(logged?.msg, "admin request failed");
    } finally {
      await server.close();
    }
  });
});
