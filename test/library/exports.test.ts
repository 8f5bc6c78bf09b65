import assert from "node:assert/strict";
import { test } from "node:test";
import * as junction from "../../src/index.js";

test("the library exposes the building blocks of the runtime", () => {
  for (const name of [
    "JunctionRuntime",
    "IntegrationRunner",
    "loadConfig",
    "loadConfigFromString",
    "builtinComponents",
    "openStateStore",
    "createLogger",
    "JunctionMetrics",
    "HealthRegistry",
    "startAdminServer",
    "buildTransforms",
    "applyTransforms",
    "connectorSpecs",
    "findConnector",
    "backoffDelay",
    "createMessage",
    "JunctionError",
    "SecretRedactor",
    "parseDuration",
    "authorizationUrl",
    "verifyState",
    "exchangeCode",
    "refreshToken",
    "clientCredentialsToken",
    "tokenNeedsRefresh",
    "RefreshingToken",
    "providers",
  ]) {
    assert.ok(name in junction, `${name} is exported`);
  }
});

test("a pipeline can be run in code: config string in, rows out", async () => {
  const loaded = await junction.loadConfigFromString(
    `version: 1
state: "sqlite::memory:"
admin: false
connections:
  gen: { type: generate }
  out: { type: discard }
integrations:
  demo:
    source: { connection: gen, count: 250 }
    transform:
      - filter: "id % 5 = 0"
    target: { connection: out }
`,
    "<inline>",
    junction.builtinComponents,
    { env: {} },
  );
  const runtime = await junction.JunctionRuntime.open(loaded, { logger: junction.createLogger({ level: "silent" }), processMetrics: false });
  try {
    const result = await runtime.run({ once: true });
    assert.equal(result.ok, true);
    assert.deepEqual(result.summaries[0]?.run.counts, { read: 250, written: 50, filtered: 200, deadLettered: 0, retried: 0 });
  } finally {
    await runtime.close();
  }
});
