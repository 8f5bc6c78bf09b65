import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PLACEHOLDERS, chunkRows, insertSql } from "../../../src/connectors/mysql/insert-statements.js";
import type { InsertRow } from "../../../src/connectors/mysql/insert-statements.js";
import { isoToServer, padFraction, serverToIso } from "../../../src/connectors/mysql/datetime-text.js";
import { keysetParams, planSourceQuery } from "../../../src/connectors/mysql/source-query.js";

test("chunks never exceed the placeholder ceiling nor the byte budget, and group rows by column set", () => {
  const columns = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const rows: InsertRow[] = Array.from({ length: 20_000 }, (_, index) => ({ index, columns, params: columns.map(() => index) }));
  const chunks = chunkRows(rows, 1 << 30);
  assert.ok(chunks.length >= 4);
  for (const chunk of chunks) assert.ok(chunk.rows.length * chunk.columns.length <= MAX_PLACEHOLDERS);
  assert.equal(chunks.reduce((sum, chunk) => sum + chunk.rows.length, 0), 20_000);

  const big: InsertRow[] = Array.from({ length: 10 }, (_, index) => ({ index, columns: ["a"], params: ["x".repeat(1000)] }));
  assert.ok(chunkRows(big, 2500).every((chunk) => chunk.rows.length <= 2));

  const mixed = chunkRows(
    [
      { index: 0, columns: ["b", "a"], params: [2, 1] },
      { index: 1, columns: ["a"], params: [3] },
      { index: 2, columns: ["a", "b"], params: [4, 5] },
    ],
    1 << 20,
  );
  assert.deepEqual(mixed.map((chunk) => [chunk.columns, chunk.rows.map((row) => row.params)]), [
    [["a", "b"], [[1, 2], [4, 5]]],
    [["a"], [[3]]],
  ]);
});

test("insert SQL: backtick-quoted, multi-row, ON DUPLICATE KEY UPDATE of the non-key columns", () => {
  assert.equal(insertSql("`t`", ["id", "name"], 2, ["id"]), "INSERT INTO `t` (`id`, `name`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)");
  assert.equal(insertSql("`t`", ["id"], 1, ["id"]), "INSERT INTO `t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)");
  assert.equal(insertSql("`t`", ["id"], 1, undefined), "INSERT INTO `t` (`id`) VALUES (?)");
});

test("keyset SQL is expanded for MariaDB's index use, with parameters in order", () => {
  const plan = planSourceQuery({ table: "db.t", key: ["k1", "k2"], cursor: "c" }, 50);
  assert.equal(
    plan.nextSql,
    "SELECT * FROM `db`.`t` WHERE `c` IS NOT NULL AND `k1` IS NOT NULL AND `k2` IS NOT NULL AND (`c` > ? OR (`c` = ? AND `k1` > ?) OR (`c` = ? AND `k1` = ? AND `k2` > ?)) ORDER BY `c`, `k1`, `k2` LIMIT 50",
  );
  assert.deepEqual(keysetParams(["C", "K1", "K2"]), ["C", "C", "K1", "C", "K1", "K2"]);
});

test("date-time text converts between server text and ISO-8601 without losing microseconds", () => {
  assert.equal(serverToIso("2024-01-02 03:04:05.123456", "+00:00"), "2024-01-02T03:04:05.123456Z");
  assert.equal(serverToIso("2024-01-02 03:04:05", "+02:00"), "2024-01-02T03:04:05+02:00");
  assert.equal(serverToIso("0000-00-00 00:00:00", "+00:00"), "0000-00-00 00:00:00");
  assert.equal(isoToServer("2024-01-02T03:04:05.123456Z", "+00:00"), "2024-01-02 03:04:05.123456");
  assert.equal(isoToServer("2024-01-01T01:30:00.5+02:00", "+00:00"), "2023-12-31 23:30:00.5");
  assert.equal(isoToServer("2024-01-02", "+00:00"), undefined);
  assert.equal(padFraction("2024-01-02 03:04:05", 6), "2024-01-02 03:04:05.000000");
  assert.equal(padFraction("2024-01-02 03:04:05", 0), "2024-01-02 03:04:05");
});
