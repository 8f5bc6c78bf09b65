// @slow
// SIGKILL between pages: the process running the http source dies while its third page is in
// flight; the restart asks from the checkpointed watermark and the SQLite table ends with every
// record exactly once.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { runCli, spawnCli } from "../../support/cli.js";
import { tempDir } from "../../support/temp-dir.js";
import { recordsFrom, startPagedApi } from "./paged-api.js";

const dir = tempDir();
after(() => dir.remove());

function readCheckpoint(): unknown {
  const file = join(dir.path, ".junction", "state.db");
  if (!existsSync(file)) return undefined;
  const db = openSqlite(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 1000");
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'junction_checkpoints'").get();
    const row = table ? (db.prepare("SELECT value FROM junction_checkpoints WHERE scope = 'pull_items'").get() as { value: string } | undefined) : undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  } finally {
    db.close();
  }
}

test("a SIGKILL while a page is in flight loses nothing: the restart resumes from the watermark", { timeout: 120_000 }, async (t) => {
  const paged = await startPagedApi(recordsFrom(23));
  const held: ServerResponse[] = [];
  let hold = true;
  paged.intercept = (_request, url, response) => {
    if (!hold || url.searchParams.get("after") !== "r010") return false;
    held.push(response); // never answered: the page is in flight when the process dies
    return true;
  };
  try {
    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
connections:
  items_api: { type: http, base_url: ${paged.api.url}/v1 }
  db: { type: sqlite, path: ./items.db }
integrations:
  pull_items:
    source:
      connection: items_api
      path: /items/cursor
      records: data
      pagination: { type: cursor, cursor: meta.next_cursor, param: after }
      watermark: { field: updated_at, param: updated_since, sorted: true }
    target: { connection: db, table: items, mode: upsert, key: id, create_table: true }
    sync: { trigger: once, batch_size: 5, batch_period: 10ms }
`,
    );
    const child = spawnCli(["run", "junction.yaml", "--once"], { cwd: dir.path });
    const exited = once(child, "exit");
    // A failed assertion must not leave the child running (it would keep the test process waiting).
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(held.length > 0 && (readCheckpoint() as { watermark?: string } | undefined)?.watermark === "2024-01-01T00:00:10Z")) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(readCheckpoint(), { field: "updated_at", watermark: "2024-01-01T00:00:10Z", seen: ["r010"] }, "two pages written and checkpointed");
    child.kill("SIGKILL");
    await exited;
    hold = false;

    const before = paged.pageRequests().length;
    const rerun = await runCli(["run", "junction.yaml", "--once"], { cwd: dir.path, timeoutMs: 60_000 });
    assert.equal(rerun.code, 0, rerun.stderr);
    const resumed = paged.pageRequests()[before];
    assert.equal(resumed?.searchParams.get("updated_since"), "2024-01-01T00:00:10Z", "asks from the watermark, not from a pagination cursor");
    assert.equal(resumed?.searchParams.get("after"), null);

    const db = openSqlite(join(dir.path, "items.db"), { readonly: true });
    const stats = db.prepare("SELECT count(*) AS n, count(DISTINCT id) AS k, min(id) AS lo, max(id) AS hi FROM items").get() as Record<string, number | string>;
    db.close();
    assert.deepEqual(stats, { n: 23, k: 23, lo: "r001", hi: "r023" });
  } finally {
    for (const response of held) response.destroy();
    await paged.close();
  }
});
