import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, it } from "node:test";
import { runCli } from "../../support/cli.js";
import { tempDir } from "../../support/temp-dir.js";

const CONFIG = `version: 1
name: progress
state: sqlite:./state.db
connections:
  gen: { type: generate }
  out: { type: discard }
integrations:
  slow:
    source: { connection: gen, count: 40, batch_size: 10, interval: 150ms }
    target: { connection: out }
`;

const dir = tempDir();
after(() => dir.remove());

it("junction run writes plain progress log lines when stderr is not a terminal, and none with --no-progress", async () => {
  await writeFile(join(dir.path, "junction.yaml"), CONFIG);
  const shown = await runCli(["run", "--once", "--no-admin", "--progress-interval", "200ms"], { cwd: dir.path });
  assert.equal(shown.code, 0, shown.stderr);
  const progress = shown.stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => String(line.msg).startsWith("progress slow:"));
  assert.ok(progress.length >= 1, shown.stderr);
  assert.equal(progress[0]?.estimated_count, 40, "the generate source tells its size");
  assert.ok(!shown.stderr.includes("\x1b["), "no terminal control sequences in a log");

  const quiet = await runCli(["run", "--once", "--no-admin", "--no-progress", "--progress-interval", "200ms"], { cwd: dir.path });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.ok(!quiet.stderr.includes('"msg":"progress'), quiet.stderr);
});

it("a bad --progress-interval is a usage error", async () => {
  const result = await runCli(["run", "--progress-interval", "soon"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--progress-interval must be a duration/);
});
