import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAbsolute, join, resolve } from "node:path";
import { DEFAULTS, loadConfigFromString } from "../../src/config/index.js";
import type { JunctionConfig } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";

const BASE = resolve("/srv/project-x");

async function load(text: string): Promise<JunctionConfig> {
  const loaded = await loadConfigFromString(text, join(BASE, "junction.yaml"), testComponents, { env: {} });
  return loaded.config;
}

const minimal = `version: 1
connections:
  db: { type: database, url: sqlite:data.db }
  out: { type: printer }
integrations:
  users:
    source: { connection: db, table: users }
    target: { connection: out }
`;

describe("normalisation", () => {
  test("a minimal file gets every default", async () => {
    const config = await load(minimal);
    assert.equal(config.version, 1);
    assert.equal(config.name, "project-x");
    assert.equal(config.file, join(BASE, "junction.yaml"));
    assert.equal(config.baseDir, BASE);
    assert.equal(config.state, `sqlite:${join(BASE, ".junction/state.db")}`);
    assert.deepEqual(config.admin, { listen: DEFAULTS.adminListen });
    assert.deepEqual(config.log, { level: "info", format: "auto" });
    assert.equal(config.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs);
    assert.deepEqual(config.connections.db, { name: "db", type: "database", options: { url: "sqlite:data.db" }, required: true });
    const resilience = { retry: { ...DEFAULTS.retry }, timeoutMs: 0, timeoutStrategy: "cooperative" };
    assert.deepEqual(config.integrations.users, {
      name: "users",
      source: { connection: "db", options: { table: "users" } },
      transforms: [],
      targets: [{ name: "out", connection: "out", options: {}, resilience }],
      routing: "single",
      trigger: { kind: "once" },
      batching: { ...DEFAULTS.batching },
      concurrency: DEFAULTS.concurrency,
      resilience,
      onError: "dead_letter",
      monitoring: { alerts: { windowMs: DEFAULTS.alertWindowMs } },
    });
    assert.equal(config.workflows, undefined);
  });

  test("durations become milliseconds and sizes bytes, in every accepted form", async () => {
    const config = await load(`${minimal}    sync:
      trigger: schedule
      schedule: "*/5 * * * *"
      timezone: Europe/Paris
      batch_size: 100
      batch_bytes: 512kb
      batch_period: 250ms
      concurrency: 2
    resilience:
      retry: { attempts: 3, backoff: linear, base_delay: 1.5s, max_delay: 5m, jitter: decorrelated }
      timeout: 10000
    on_error: fail
    monitoring:
      alerts: { error_rate_threshold: 0.05, latency_threshold: 2s, window: 1h }
shutdown_timeout: "45s"
`);
    const users = config.integrations.users;
    assert.ok(users);
    assert.deepEqual(users.trigger, { kind: "schedule", cron: "*/5 * * * *", timezone: "Europe/Paris" });
    assert.deepEqual(users.batching, { count: 100, bytes: 512 * 1024, periodMs: 250 });
    assert.equal(users.concurrency, 2);
    assert.deepEqual(users.resilience, { retry: { attempts: 3, backoff: "linear", baseDelayMs: 1500, maxDelayMs: 300_000, jitter: "decorrelated" }, timeoutMs: 10_000, timeoutStrategy: "cooperative" });
    assert.equal(users.onError, "fail");
    assert.deepEqual(users.monitoring, { alerts: { errorRateThreshold: 0.05, latencyThresholdMs: 2000, windowMs: 3_600_000 } });
    assert.equal(config.shutdownTimeoutMs, 45_000);
  });

  test("sizes accept bytes as a number or digits and units in any case", async () => {
    const bytes = async (value: string): Promise<number | undefined> => (await load(`${minimal}    sync: { batch_bytes: ${value} }\n`)).integrations.users?.batching.bytes;
    assert.equal(await bytes("2048"), 2048);
    assert.equal(await bytes('"4096"'), 4096);
    assert.equal(await bytes("1MB"), 1024 * 1024);
    assert.equal(await bytes("1gb"), 1024 ** 3);
  });

  test("an integration's resilience overrides its target connection's, field by field", async () => {
    const config = await load(`version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
    required: false
    resilience: { retry: { attempts: 8, max_delay: 1m }, timeout: 5s }
integrations:
  copy:
    source: { connection: db, table: a }
    target: { connection: db, table: b }
    resilience: { retry: { attempts: 2 } }
`);
    assert.equal(config.connections.db?.required, false);
    assert.deepEqual(config.connections.db?.resilience, { retry: { ...DEFAULTS.retry, attempts: 8, maxDelayMs: 60_000 }, timeoutMs: 5000, timeoutStrategy: "cooperative" });
    assert.deepEqual(config.connections.db?.options, { url: "sqlite:data.db" });
    assert.deepEqual(config.integrations.copy?.resilience, { retry: { ...DEFAULTS.retry, attempts: 2, maxDelayMs: 60_000 }, timeoutMs: 5000, timeoutStrategy: "cooperative" });
  });

  test("transform steps keep their order, type and value", async () => {
    const config = await load(`${minimal}    transform:
      - filter: active
      - map: '{ "id": id }'
      - rename: { full_name: name }
`);
    assert.deepEqual(config.integrations.users?.transforms, [
      { type: "filter", value: "active" },
      { type: "map", value: '{ "id": id }' },
      { type: "rename", value: { full_name: "name" } },
    ]);
  });

  test("admin can be disabled either way, and name, state and log are taken as written", async () => {
    assert.equal((await load("version: 1\nadmin: false\n")).admin.listen, null);
    assert.equal((await load("version: 1\nadmin: { listen: false }\n")).admin.listen, null);
    const config = await load("version: 1\nname: demo\nstate: postgres://app@db:5432/junction\nadmin: { listen: '0.0.0.0:9000' }\nlog: { level: debug, format: json }\n");
    assert.equal(config.name, "demo");
    assert.equal(config.state, "postgres://app@db:5432/junction");
    assert.equal(config.admin.listen, "0.0.0.0:9000");
    assert.deepEqual(config.log, { level: "debug", format: "json" });
  });

  test("relative sqlite state paths resolve against the config directory; absolute ones and :memory: stay", async () => {
    assert.equal((await load("version: 1\nstate: sqlite:var/state.db\n")).state, `sqlite:${join(BASE, "var/state.db")}`);
    const absolute = resolve("/data/state.db");
    assert.equal((await load(`version: 1\nstate: "sqlite:${absolute}"\n`)).state, `sqlite:${absolute}`);
    assert.equal((await load("version: 1\nstate: \"sqlite::memory:\"\n")).state, "sqlite::memory:");
    assert.ok(isAbsolute((await load("version: 1\n")).state.slice("sqlite:".length)));
  });

  test("reserved sections are accepted and kept as written", async () => {
    const config = await load("version: 1\nworkflows: { place_order: { steps: [a, b] } }\ngateway: true\n");
    assert.deepEqual(config.workflows, { place_order: { steps: ["a", "b"] } });
    assert.equal(config.gateway, true);
    assert.deepEqual(config.webhooks, { inbound: {}, outbound: {}, deliveryRetentionMs: 30 * 86_400_000 });
  });

  test("connector options are kept as written, relative paths included", async () => {
    const config = await load("version: 1\nconnections:\n  db: { type: database, url: ./data/app.db, port: 5432 }\n");
    assert.deepEqual(config.connections.db?.options, { url: "./data/app.db", port: 5432 });
  });
});
