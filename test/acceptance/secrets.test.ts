import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const SECRET = "sk_live_9f8e7d6c5b4a3210ZZtop";
const SECRET_DIR = "vault-dir-Qx81";
const dir = tempDir();
after(() => dir.remove());

const config = `version: 1
name: secrets
admin: { listen: "127.0.0.1:0" }
log: { level: debug }
connections:
  events: { type: file, path: ./events.jsonl }
  target: { type: sqlite, path: "./\${SECRET_DIR}/target.db" }
integrations:
  forward:
    source: { connection: events }
    transform:
      - set: { api_key: "\${API_TOKEN}" }
      # A careless mapping that puts the key into its own error message.
      - map: 'ok ? $ : $error("upstream rejected key " & api_key)'
    target: { connection: target, table: events, mode: upsert, key: id, create_table: true }
`;

test("a secret given through ${VAR} never appears in logs, errors, /api/* responses or config print", { timeout: 120_000 }, async () => {
  mkdirSync(join(dir.path, SECRET_DIR));
  writeFileSync(join(dir.path, "events.jsonl"), `${JSON.stringify({ id: 1, ok: true })}\n${JSON.stringify({ id: 2, ok: false })}\n`);
  writeFileSync(join(dir.path, "junction.yaml"), config);
  const env = { ...process.env, API_TOKEN: SECRET, SECRET_DIR };

  // Logs and the API, through the library.
  let logs = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  const loaded = await loadConfig(join(dir.path, "junction.yaml"), builtinComponents, { env });
  const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "debug", format: "json", redactor: loaded.redactor, destination: sink }), processMetrics: false });
  let api = "";
  try {
    const result = await runtime.run({ once: true });
    assert.equal(result.summaries[0]?.run.counts.deadLettered, 1, "the failing message was dead-lettered");
    const base = runtime.adminUrl;
    assert.ok(base, "the admin server is up");
    for (const path of ["/api/runs", "/api/dead-letters", "/health", "/ready", "/metrics"]) {
      const response = await fetch(`${base}${path}`);
      api += await response.text();
    }
    const [letter] = await runtime.state.listDeadLetters({});
    api += await (await fetch(`${base}/api/dead-letters/${letter?.id}`)).text();
  } finally {
    await runtime.close();
  }
  assert.match(logs, /dead-lettered/, "the logs were captured");
  assert.match(api, /upstream rejected key/, "the API answered with the dead letter");
  for (const [where, text] of [
    ["logs", logs],
    ["api", api],
  ] as const) {
    assert.ok(!text.includes(SECRET), `the secret leaked into ${where}`);
    assert.ok(!text.includes(SECRET_DIR), `the interpolated directory leaked into ${where}`);
  }

  // The CLI: config print, run output, dlq output, and a config error that echoes the value.
  const printed = await runCli(["config", "print"], { cwd: dir.path, env });
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /\[redacted\]/);
  const run = await runCli(["run", "--once", "--no-admin"], { cwd: dir.path, env });
  const dlq = await runCli(["dlq", "list", "--json"], { cwd: dir.path, env });
  const show = await runCli(["dlq", "list"], { cwd: dir.path, env });
  writeFileSync(join(dir.path, "bad.yaml"), config.replace("integrations:\n  forward:\n", "integrations:\n  forward:\n    sync: { batch_size: \"${API_TOKEN}\" }\n"));
  const invalid = await runCli(["validate", "bad.yaml"], { cwd: dir.path, env });
  assert.equal(invalid.code, 2, "the broken config is rejected");
  assert.match(invalid.stdout + invalid.stderr, /batch_size/);
  for (const result of [printed, run, dlq, show, invalid]) {
    const text = result.stdout + result.stderr;
    assert.ok(!text.includes(SECRET), `the secret leaked into CLI output: ${text.slice(0, 400)}`);
    assert.ok(!text.includes(SECRET_DIR), "the interpolated directory leaked into CLI output");
  }
});
