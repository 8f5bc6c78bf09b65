import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { spawnCli } from "../support/cli.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

test("http_server → SQLite: 200 only once the row is written, 400 for bad JSON, SIGTERM drains and exits 0", { timeout: 120_000 }, async () => {
  const [ingestPort, adminPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir.path, "junction.yaml"),
    `version: 1
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: info, format: json }
shutdown_timeout: 10s
connections:
  inbound: { type: http_server, listen: "127.0.0.1:${ingestPort}" }
  db: { type: sqlite, path: ./events.db }
integrations:
  ingest:
    source: { connection: inbound, path: /events }
    transform:
      - validate: { schema: { type: object, required: [id], properties: { id: { type: integer } } } }
    target: { connection: db, table: events, mode: upsert, key: id, create_table: true }
    sync: { trigger: continuous, batch_period: 5ms }
`,
  );
  const child = spawnCli(["run"], { cwd: dir.path });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit");
  try {
    await waitFor(`http://127.0.0.1:${adminPort}/ready`);
    const db = openSqlite(join(dir.path, "events.db"), { readonly: false });
    const count = (): number => (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;

    for (let id = 1; id <= 20; id++) {
      const response = await fetch(`http://127.0.0.1:${ingestPort}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id, kind: "signup" }) });
      assert.equal(response.status, 200, await response.text());
      assert.equal(count(), id, "the row is in the table by the time the response arrives");
    }
    const batch = await fetch(`http://127.0.0.1:${ingestPort}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ id: 21 }, { id: 22 }]) });
    assert.equal(batch.status, 200);
    assert.equal(count(), 22);

    const bad = await fetch(`http://127.0.0.1:${ingestPort}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    assert.equal(bad.status, 400);
    const invalid = await fetch(`http://127.0.0.1:${ingestPort}/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "x" }) });
    assert.equal(invalid.status, 200, "an invalid event is accepted into the dead-letter store");
    assert.equal(count(), 22);
    const letters = (await (await fetch(`http://127.0.0.1:${adminPort}/api/dead-letters`)).json()) as { total: number };
    assert.equal(letters.total, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    assert.match(metrics, /junction_messages_total\{integration="ingest",stage="sink",outcome="ok"\} 22/);
    db.close();
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await exited;
  assert.equal(code, 0, stderr.slice(-2000));
  assert.match(stderr, /shutting down/);
  assert.match(stderr, /"status":"partial"/);
});
