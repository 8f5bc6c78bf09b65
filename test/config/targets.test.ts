import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { buildJsonSchema, ConfigProblemsError, loadConfigFromString, renderResolvedConfig } from "../../src/config/index.js";
import type { LoadedConfig } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";

const connections = `version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
    resilience: { retry: { attempts: 8, max_delay: 1s }, circuit_breaker: { failure_threshold: 3 } }
  out: { type: printer }
integrations:
`;

function load(integrations: string): Promise<LoadedConfig> {
  return loadConfigFromString(connections + integrations, "<inline>", testComponents, { env: {} });
}

async function problemsOf(integrations: string): Promise<Array<{ path: string; message: string }>> {
  try {
    await load(integrations);
  } catch (error) {
    if (error instanceof ConfigProblemsError) return error.problems.map(({ path, message }) => ({ path, message }));
    throw error;
  }
  return [];
}

describe("targets and switch in the config", () => {
  test("targets: names default to the connection, each target inherits its own connection's resilience", async () => {
    const { config } = await load(`  orders:
    source: { connection: db, table: orders }
    targets:
      - connection: db
        table: orders_copy
        mode: upsert
        key: id
      - name: audit
        when: "amount > 1000"
        connection: out
        pretty: true
    resilience: { retry: { attempts: 4 } }
`);
    const orders = config.integrations.orders;
    assert.ok(orders);
    assert.equal(orders.routing, "fan_out");
    const [db, audit] = orders.targets;
    assert.deepEqual([db?.name, db?.connection, db?.options, db?.when], ["db", "db", { table: "orders_copy", mode: "upsert", key: "id" }, undefined]);
    assert.deepEqual([audit?.name, audit?.connection, audit?.options, audit?.when], ["audit", "out", { pretty: true }, "amount > 1000"]);
    assert.equal(db?.resilience.retry.attempts, 4, "the integration's block overrides the connection's key by key");
    assert.equal(db?.resilience.retry.maxDelayMs, 1000, "… and keeps what it does not set");
    assert.ok(db?.resilience.circuitBreaker);
    assert.equal(audit?.resilience.retry.attempts, 4);
    assert.equal(audit?.resilience.retry.maxDelayMs, 30_000, "the printer connection has no resilience of its own");
    assert.equal(audit?.resilience.circuitBreaker, undefined);
    assert.equal(orders.resilience.circuitBreaker, undefined, "with several targets the integration's own resilience is its block alone");
  });

  test("switch: cases sharing an unnamed connection are numbered, a connection used once keeps its name", async () => {
    const { config } = await load(`  routed:
    source: { connection: db, table: events }
    switch:
      - when: "type = 'order.created'"
        target: { connection: db, table: orders }
      - when: "type = 'order.cancelled'"
        target: { connection: db, table: cancellations }
      - when: "type = 'refund'"
        name: refunds
        target: { connection: db, table: refunds }
      - target: { connection: out }
`);
    const routed = config.integrations.routed;
    assert.equal(routed?.routing, "switch");
    assert.deepEqual(routed?.targets.map((t) => [t.name, t.when]), [
      ["db_0", "type = 'order.created'"],
      ["db_1", "type = 'order.cancelled'"],
      ["refunds", "type = 'refund'"],
      ["out", undefined],
    ]);
    assert.deepEqual(routed?.targets[1]?.options, { table: "cancellations" });
  });

  test("a target: is a one-element list whose resilience is the integration's", async () => {
    const { config } = await load(`  copy:
    source: { connection: db, table: users }
    target: { connection: db, table: users_copy }
`);
    const copy = config.integrations.copy;
    assert.equal(copy?.routing, "single");
    assert.equal(copy?.targets.length, 1);
    assert.equal(copy?.targets[0]?.name, "db");
    assert.equal(copy?.targets[0]?.resilience, copy?.resilience);
    assert.equal(copy?.resilience.retry.attempts, 8);
  });

  test("config print writes targets and switch back with resolved names, and loads again the same", async () => {
    const loaded = await load(`  orders:
    source: { connection: db, table: orders }
    targets:
      - connection: db
        table: orders_copy
      - { name: audit, when: "amount > 1000", connection: out }
  routed:
    source: { connection: db, table: events }
    switch:
      - { when: "type = 'a'", target: { connection: db, table: a } }
      - { target: { connection: db, table: rest } }
`);
    const printed = renderResolvedConfig(loaded);
    const tree = parse(printed) as { integrations: Record<string, Record<string, unknown>> };
    assert.deepEqual(tree.integrations.orders?.targets, [
      { name: "db", connection: "db", table: "orders_copy" },
      { name: "audit", when: "amount > 1000", connection: "out" },
    ]);
    assert.deepEqual(tree.integrations.routed?.switch, [
      { name: "db_0", when: "type = 'a'", target: { connection: "db", table: "a" } },
      { name: "db_1", target: { connection: "db", table: "rest" } },
    ]);
    const again = await loadConfigFromString(printed, "<inline>", testComponents, { env: {} });
    for (const name of ["orders", "routed"]) {
      assert.deepEqual(
        again.config.integrations[name]?.targets.map((t) => [t.name, t.connection, t.when, t.options]),
        loaded.config.integrations[name]?.targets.map((t) => [t.name, t.connection, t.when, t.options]),
      );
    }
  });

  test("every mistake is reported at its path", async () => {
    assert.deepEqual(await problemsOf(`  orders:
    source: { connection: db, table: orders }
    switch:
      - target: { connection: db, table: orders }
      - when: "x ="
        target: { connection: out, pretty: "yes" }
`), [
      { path: "integrations.orders.switch.0", message: 'a case without "when" is the default and must be the last case: the case after it could never match; add a when: or move this case to the end' },
      { path: "integrations.orders.switch.1.when", message: "invalid JSONata at position 3: Unexpected end of expression" },
      { path: "integrations.orders.switch.1.target.pretty", message: 'expected true or false, got "yes"' },
    ]);
  });

  test("duplicate names, explicit or defaulted, are reported at the second", async () => {
    const problems = await problemsOf(`  orders:
    source: { connection: db, table: orders }
    switch:
      - { name: same, when: "a", target: { connection: db, table: a } }
      - { name: same, target: { connection: db, table: b } }
`);
    assert.deepEqual(problems.map((p) => p.path), ["integrations.orders.switch.1.name"]);
    assert.match(problems[0]?.message ?? "", /duplicate target name "same" \(cases 0 and 1\)/);
  });

  test("an empty targets list is a mistake", async () => {
    const problems = await problemsOf(`  orders:
    source: { connection: db, table: orders }
    targets: []
`);
    assert.deepEqual(problems, [{ path: "integrations.orders.targets", message: "must not be an empty list" }]);
  });

  test("resilience contradictions are judged over each target connection's block", async () => {
    const problems = await problemsOf(`  orders:
    source: { connection: db, table: orders }
    targets:
      - connection: out
      - connection: db
        table: copy
    resilience: { retry: { base_delay: 5s } }
`);
    assert.deepEqual(problems.map((p) => p.path), ["integrations.orders.resilience.retry.base_delay"]);
    assert.match(problems[0]?.message ?? "", /the target connection's max_delay \(1s\)/);
  });

  test("the JSON Schema for editors wants exactly one of target, targets and switch", () => {
    const validate = new Ajv({ strictSchema: true, strictTypes: false, allErrors: true }).compile(buildJsonSchema(testComponents));
    const base = { version: 1, connections: { db: { type: "database", url: "x" } } };
    const source = { connection: "db", table: "t" };
    const valid = (integration: Record<string, unknown>): boolean => validate({ ...base, integrations: { i: { source, ...integration } } }) as boolean;
    assert.equal(valid({ target: { connection: "db", table: "a" } }), true);
    assert.equal(valid({ targets: [{ connection: "db", table: "a", name: "a", when: "x > 1" }] }), true);
    assert.equal(valid({ switch: [{ when: "x > 1", target: { connection: "db", table: "a" } }, { target: { connection: "db" } }] }), true);
    assert.equal(valid({}), false);
    assert.equal(valid({ target: { connection: "db" }, targets: [{ connection: "db" }] }), false);
    assert.equal(valid({ switch: [{ wen: "x", target: { connection: "db" } }] }), false);
  });
});
