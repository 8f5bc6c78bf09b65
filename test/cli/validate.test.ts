import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot, runCli } from "../support/cli.js";

const badDir = join(repoRoot, "test/fixtures/bad-configs");
const goodDir = join(repoRoot, "test/fixtures/good-configs");

test("junction validate names the exact location of every broken config, exit 2, no stack trace", { timeout: 120_000 }, async () => {
  const files = readdirSync(badDir).filter((f) => f.endsWith(".yaml")).sort();
  assert.ok(files.length >= 25, `at least 25 broken configs, found ${files.length}`);
  const result = await runCli(["validate", ...files.map((f) => join(badDir, f))], { env: { JUNCTION_FIXTURE_DIR: "./data" } });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "", "nothing is reported valid");
  assert.doesNotMatch(result.stderr, /\n\s+at [\w.<>]+ \(/, "no stack trace");
  assert.doesNotMatch(result.stderr, /JUNCTION_DEBUG/, "no crash report");
  for (const file of files) {
    const path = join(badDir, file);
    const [, line, col, where, message] = /^# expect: (\d+):(\d+) (\S+) (.+)$/.exec(readFileSync(path, "utf8").split("\n", 1)[0] ?? "") ?? [];
    assert.ok(line, `${file} states its expectation`);
    const expected = `${relative(repoRoot, path)}:${line}:${col}  ${where}  `;
    const reported = result.stderr.split("\n").find((l) => l.startsWith(expected));
    assert.ok(reported, `${file}: expected a line starting with "${expected}"`);
    assert.ok(reported.includes((message as string).trim()), `${file}: "${reported}" should mention "${message}"`);
  }
});

test("junction validate accepts the good configs", async () => {
  const files = readdirSync(goodDir).filter((f) => f.endsWith(".yaml")).map((f) => join(goodDir, f));
  const result = await runCli(["validate", ...files], { env: { JUNCTION_FIXTURE_DIR: "./data" } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim().split("\n").length, files.length);
});
