import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { repoRoot } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

before(() => {
  // `npm start` runs the built CLI; `npm install` builds it, a test run may not have.
  if (!existsSync(join(repoRoot, "dist/cli/main.js"))) {
    const build = spawnSync("npm", ["run", "build"], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(build.status, 0, build.stderr);
  }
  copyFileSync(join(repoRoot, "examples/quickstart/junction.yaml"), join(dir.path, "junction.yaml"));
});

function start(): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, "examples/quickstart/start.mjs"), dir.path], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("npm start syncs the seeded users, then only new and changed rows on the next start", { timeout: 240_000 }, () => {
  const first = start();
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /created with 1,000 users/);
  assert.match(first.stdout, /read 1000, written 999, dead-lettered 1/);
  assert.match(first.stdout, /table users now has 999 rows/);
  assert.match(first.stdout, /where to look/);

  const second = start();
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /5 new users, 3 updated/);
  assert.match(second.stdout, /read 8, written 8, dead-lettered 0/);
  assert.match(second.stdout, /table users now has 1004 rows/);

  const db = openSqlite(join(dir.path, "data/warehouse.db"), { readonly: true });
  const sweden = (db.prepare("SELECT count(*) AS n FROM users WHERE country = 'SE'").get() as { n: number }).n;
  const sample = db.prepare("SELECT email, full_name FROM users WHERE id = 7").get() as { email: string; full_name: string };
  db.close();
  assert.equal(sweden, 3, "the three updated rows arrived with their new values");
  assert.equal(sample.email, "user7@example.com");
  assert.equal(sample.full_name, "first7 last7");
});
