import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { ConfigProblemsError, loadConfigFromString, renderResolvedConfig } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";
import { problemsOf } from "./config-problems.js";

const text = `version: 1
state: postgres://junction:state-pass-77@db:5432/junction
connections:
  db:
    type: database
    url: \${DB_URL}
    password: written-in-file-123
  out:
    type: printer
    api_token: \${file:./token.txt}
integrations:
  users:
    source: { connection: db, table: users }
    target: { connection: out }
`;

describe("secrets", () => {
  test("interpolated values, fields marked secret and state passwords are registered with the redactor", async () => {
    const loaded = await loadConfigFromString(text.replace("${file:./token.txt}", "${TOKEN}"), "junction.yaml", testComponents, {
      env: { DB_URL: "postgres://app:env-pass-42@db/app", TOKEN: "tok-abcdef" },
    });
    const { redactor } = loaded;
    assert.ok(redactor.has("postgres://app:env-pass-42@db/app"));
    assert.ok(redactor.has("tok-abcdef"));
    assert.ok(redactor.has("written-in-file-123"));
    assert.ok(redactor.has("state-pass-77"));
    assert.deepEqual(loaded.secretPaths, [
      ["connections", "db", "password"],
      ["connections", "out", "api_token"],
    ]);
    assert.equal(redactor.redact("login with written-in-file-123 failed"), "login with [redacted] failed");
  });

  test("renderResolvedConfig shows the effective config without any secret", async () => {
    const loaded = await loadConfigFromString(text.replace("${file:./token.txt}", "${TOKEN}"), "junction.yaml", testComponents, {
      env: { DB_URL: "postgres://app:env-pass-42@db/app", TOKEN: "tok-abcdef" },
    });
    const printed = renderResolvedConfig(loaded);
    for (const secret of ["env-pass-42", "tok-abcdef", "written-in-file-123", "state-pass-77"]) assert.ok(!printed.includes(secret), `${secret} leaked:\n${printed}`);
    const tree = parse(printed) as { connections: { db: Record<string, unknown>; out: Record<string, unknown> }; integrations: { users: { sync: Record<string, unknown> } } };
    assert.equal(tree.connections.db.password, "[redacted]");
    assert.equal(tree.connections.db.url, "[redacted]");
    assert.equal(tree.connections.out.api_token, "[redacted]");
    assert.deepEqual(tree.integrations.users.sync, { trigger: "once", batch_size: 500, batch_bytes: "4mb", batch_period: "1s", concurrency: 4 });
  });

  test("the printed config, with secrets put back, loads into the same config", async () => {
    const plain = `version: 1
connections:
  db: { type: database, url: sqlite:data.db }
integrations:
  copy:
    source: { connection: db, table: a }
    target: { connection: db, table: b, mode: upsert, key: id }
    sync: { trigger: schedule, schedule: "0 * * * *", batch_period: 1500ms, batch_bytes: 1000 }
    description: "costs $\${AMOUNT}"
`;
    const first = await loadConfigFromString(plain, "/srv/p/junction.yaml", testComponents, { env: {} });
    const second = await loadConfigFromString(renderResolvedConfig(first), "/srv/p/junction.yaml", testComponents, { env: {} });
    assert.equal(first.config.integrations.copy?.description, "costs ${AMOUNT}");
    assert.deepEqual(second.config, first.config);
  });

  test("secrets never appear in problem messages", async () => {
    const bad = `version: 1
connections:
  db:
    type: database
    url: sqlite:x.db
    port: \${DB_PORT}
    password: [not, a, string, hunter-secret-9]
`;
    const problems = await problemsOf(bad, { env: { DB_PORT: "port-secret-5" } });
    const all = problems.map((p) => p.message).join("\n");
    assert.ok(all.includes("[redacted]"), all);
    assert.ok(!all.includes("port-secret-5"), all);
    try {
      await loadConfigFromString(bad, "junction.yaml", testComponents, { env: { DB_PORT: "port-secret-5" } });
      assert.fail("expected a ConfigProblemsError");
    } catch (error) {
      assert.ok(error instanceof ConfigProblemsError);
      assert.ok(!error.message.includes("port-secret-5"));
      assert.ok(!error.message.includes("hunter-secret-9"));
    }
  });
});
