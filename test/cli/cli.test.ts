import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

describe("junction CLI", () => {
  test("--help lists every command and exits 0", async () => {
    const result = await runCli(["--help"]);
    assert.equal(result.code, 0);
    for (const command of ["init", "validate", "schema", "run", "check", "runs", "checkpoints", "dlq", "memory", "config", "webhooks"]) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });

  test("every subcommand has --help", async () => {
    for (const args of [["run"], ["dlq", "replay"], ["memory", "query"], ["config", "print"], ["webhooks", "deliveries"], ["webhooks", "recover"]]) {
      const result = await runCli([...args, "--help"]);
      assert.equal(result.code, 0, args.join(" "));
      assert.match(result.stdout, /Usage: junction/);
    }
  });

  test("an unknown command or option is a usage error (exit 2) with no stack trace", async () => {
    for (const args of [["frobnicate"], ["run", "--bogus"], ["runs", "--limit", "zero", "--state", "sqlite::memory:"]]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    }
  });

  test("a missing config file says how to make one", async () => {
    const result = await runCli(["validate", "nope.yaml"], { cwd: dir.path });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /junction init/);
  });

  test("init writes a starter config that validates and runs", async () => {
    const init = await runCli(["init", "project"], { cwd: dir.path });
    assert.equal(init.code, 0, init.stderr);
    const file = join(dir.path, "project/junction.yaml");
    assert.match(readFileSync(file, "utf8"), /integrations:/);
    const again = await runCli(["init", "project"], { cwd: dir.path });
    assert.equal(again.code, 2, "refuses to overwrite without --force");
    const validate = await runCli(["validate", file]);
    assert.equal(validate.code, 0, validate.stderr);
    const run = await runCli(["run", file, "--once", "--no-admin", "--json"], { cwd: join(dir.path, "project") });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { ok: boolean; runs: Array<{ counts: { written: number } }> };
    assert.equal(summary.ok, true);
    assert.equal(summary.runs[0]?.counts.written, 100);
    const runs = await runCli(["runs", "-c", file, "--json"]);
    assert.equal((JSON.parse(runs.stdout) as unknown[]).length, 1);
    const check = await runCli(["check", file, "--json"]);
    assert.equal(check.code, 0, check.stderr);
    const report = JSON.parse(check.stdout) as { connections: Array<{ name: string; status: string }> };
    assert.deepEqual(report.connections.map((c) => c.status), ["healthy", "healthy"]);
  });

  test("check exits 1 when a connection is unhealthy", async () => {
    const file = join(dir.path, "unhealthy.yaml");
    writeFileSync(file, `version: 1\nconnections:\n  gone: { type: sqlite, path: ./no/such/dir/x.db, readonly: true }\n  ok: { type: generate }\nintegrations: {}\n`);
    const result = await runCli(["check", file]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /gone\s+sqlite\s+unhealthy/);
  });

  test("schema prints a JSON Schema", async () => {
    const result = await runCli(["schema"]);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as { properties?: Record<string, unknown> };
    assert.ok(schema.properties?.integrations);
  });

  test("memory store, query by words and tags, list, show", async () => {
    const state = ["--state", `sqlite:${join(dir.path, "memory.db")}`];
    const stored = await runCli(["memory", "store", ...state, "--title", "Stripe webhooks go through a queue", "--tag", "stripe", "--tag", "webhooks", "--json", "We", "verify", "then", "enqueue", "because", "Stripe", "retries", "for", "3", "days"]);
    assert.equal(stored.code, 0, stored.stderr);
    const id = (JSON.parse(stored.stdout) as { id: string }).id;
    await runCli(["memory", "store", ...state, "--title", "Warehouse sync every 5 minutes", "--tag", "postgres", "Finance needs fresh numbers"]);
    const byWords = await runCli(["memory", "query", ...state, "stripe", "retries", "--json"]);
    assert.deepEqual((JSON.parse(byWords.stdout) as Array<{ id: string }>).map((d) => d.id), [id]);
    const byTag = await runCli(["memory", "query", ...state, "--tag", "postgres", "--json"]);
    assert.equal((JSON.parse(byTag.stdout) as unknown[]).length, 1);
    const none = await runCli(["memory", "query", ...state, "kafka"]);
    assert.match(none.stdout, /no decisions found/);
    const list = await runCli(["memory", "list", ...state]);
    assert.match(list.stdout, /Warehouse sync/);
    const show = await runCli(["memory", "show", ...state, id]);
    assert.match(show.stdout, /Stripe retries for 3 days/);
  });

  test("dlq purge needs --yes", async () => {
    const state = ["--state", `sqlite:${join(dir.path, "purge.db")}`];
    const refused = await runCli(["dlq", "purge", ...state]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    const done = await runCli(["dlq", "purge", ...state, "--yes"]);
    assert.equal(done.code, 0);
    assert.match(done.stdout, /deleted 0/);
  });
});
