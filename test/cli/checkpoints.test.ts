import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SqliteStateStore } from "../../src/state/sqlite/sqlite-state-store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
const stateUrl = `sqlite:${join(dir.path, "state.db")}`;

before(async () => {
  const state = new SqliteStateStore(join(dir.path, "state.db"));
  await state.migrate();
  await state.setCheckpoint("users_sync", { columns: ["updated_at", "id"], values: ["2026-11-01 10:00:00+00", "42"] });
  await state.setCheckpoint("orders_cdc", { lsn: "0/16B3748" });
  await state.close();
});
after(() => dir.remove());

test("checkpoints list and show print the saved positions", async () => {
  const list = await runCli(["checkpoints", "list", "--state", stateUrl]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /orders_cdc .*\{"lsn":"0\/16B3748"\}/);
  assert.match(list.stdout, /users_sync .*"values":\["2026-11-01 10:00:00\+00","42"\]/);
  const shown = await runCli(["checkpoints", "show", "users_sync", "--json", "--state", stateUrl]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual((JSON.parse(shown.stdout) as { value: unknown }).value, { columns: ["updated_at", "id"], values: ["2026-11-01 10:00:00+00", "42"] });
});

test("reset needs --yes, then forgets one integration's position only", async () => {
  const unconfirmed = await runCli(["checkpoints", "reset", "users_sync", "--state", stateUrl]);
  assert.equal(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, /add --yes/);
  const reset = await runCli(["checkpoints", "reset", "users_sync", "--yes", "--state", stateUrl]);
  assert.equal(reset.code, 0, reset.stderr);
  const again = await runCli(["checkpoints", "reset", "users_sync", "--yes", "--state", stateUrl]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no saved position/);
  const missing = await runCli(["checkpoints", "show", "users_sync", "--state", stateUrl]);
  assert.equal(missing.code, 1);
  const list = await runCli(["checkpoints", "list", "--json", "--state", stateUrl]);
  assert.deepEqual((JSON.parse(list.stdout) as Array<{ scope: string }>).map((checkpoint) => checkpoint.scope), ["orders_cdc"]);
});
