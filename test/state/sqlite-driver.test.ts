import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openSqlite, sqliteDriverName } from "../../src/state/sqlite/sqlite-driver.js";
import type { SqliteDriverName } from "../../src/state/sqlite/sqlite-driver.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

const major = Number(process.versions.node.split(".")[0]);
// better-sqlite3 12 aborts the process on Node >= 24 (see sqlite-driver.ts), so it is only exercised below that.
const drivers: SqliteDriverName[] = [sqliteDriverName(), ...(major < 24 && sqliteDriverName() !== "better-sqlite3" ? (["better-sqlite3"] as const) : [])];

test("Node >= 24 uses node:sqlite, Node 20 better-sqlite3", () => {
  if (major >= 24) assert.equal(sqliteDriverName(), "node:sqlite");
  if (major <= 20) assert.equal(sqliteDriverName(), "better-sqlite3");
});

for (const driver of drivers) {
  describe(`SQLite driver: ${driver}`, () => {
    const open = (file: string, options = {}) => {
      const previous = process.env.JUNCTION_SQLITE_DRIVER;
      process.env.JUNCTION_SQLITE_DRIVER = driver;
      try {
        return openSqlite(join(dir.path, file), options);
      } finally {
        if (previous === undefined) delete process.env.JUNCTION_SQLITE_DRIVER;
        else process.env.JUNCTION_SQLITE_DRIVER = previous;
      }
    };

    test("statements, positional arrays, plain rows and iteration", () => {
      const db = open(`${driver}-basic.db`);
      try {
        assert.equal(db.driver, driver);
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        const insert = db.prepare("INSERT INTO t (id, name) VALUES (?, ?)");
        assert.equal(insert.run(1, "one").changes, 1);
        assert.equal(insert.run([2, "two"]).changes, 1, "one array is the positional parameter list");
        const row = db.prepare("SELECT * FROM t WHERE id = ?").get(1);
        assert.deepEqual(row, { id: 1, name: "one" });
        assert.equal(Object.getPrototypeOf(row), Object.prototype, "rows are plain objects");
        assert.deepEqual([...db.prepare("SELECT id FROM t ORDER BY id").iterate()], [{ id: 1 }, { id: 2 }]);
        assert.deepEqual(db.prepare("SELECT count(*) AS n FROM t").all(), [{ n: 2 }]);
      } finally {
        db.close();
      }
    });

    test("errors carry SQLite's code names", () => {
      const db = open(`${driver}-errors.db`);
      try {
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        db.prepare("INSERT INTO t VALUES (1, 'a')").run();
        assert.throws(() => db.prepare("INSERT INTO t VALUES (2, NULL)").run(), { code: "SQLITE_CONSTRAINT_NOTNULL" });
        assert.throws(() => db.prepare("INSERT INTO t VALUES (1, 'b')").run(), { code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
        assert.throws(() => db.prepare("SELECT * FROM missing").all(), /no such table/);
      } finally {
        db.close();
      }
    });

    test("a second writer gets SQLITE_BUSY once the busy timeout passes", () => {
      const a = open(`${driver}-busy.db`);
      const b = open(`${driver}-busy.db`, { busyTimeoutMs: 10 });
      try {
        a.exec("CREATE TABLE t (id INTEGER)");
        a.exec("BEGIN IMMEDIATE");
        assert.throws(() => b.exec("BEGIN IMMEDIATE"), (error: { code?: string }) => error.code?.startsWith("SQLITE_BUSY") === true);
        a.exec("ROLLBACK");
      } finally {
        a.close();
        b.close();
      }
    });

    test("transactions commit, roll back on throw, and nest as savepoints", () => {
      const db = open(`${driver}-tx.db`);
      try {
        db.exec("CREATE TABLE t (id INTEGER)");
        db.transaction(() => db.prepare("INSERT INTO t VALUES (1)").run(), "immediate");
        assert.throws(() =>
          db.transaction(() => {
            db.prepare("INSERT INTO t VALUES (2)").run();
            throw new Error("undo");
          }),
        );
        db.transaction(() => {
          db.prepare("INSERT INTO t VALUES (3)").run();
          assert.throws(() =>
            db.transaction(() => {
              db.prepare("INSERT INTO t VALUES (4)").run();
              throw new Error("inner");
            }),
          );
        });
        assert.deepEqual(db.prepare("SELECT id FROM t ORDER BY id").all(), [{ id: 1 }, { id: 3 }]);
        assert.equal(db.inTransaction, false);
      } finally {
        db.close();
      }
    });

    test("read-only on a missing file is SQLITE_CANTOPEN and creates nothing", () => {
      assert.throws(() => open(`${driver}-missing.db`, { readonly: true }), (error: { code?: string }) => error.code === "SQLITE_CANTOPEN");
    });

    test("pragmaValue reads a setting", () => {
      const db = open(`${driver}-pragma.db`, { busyTimeoutMs: 1234 });
      try {
        db.pragma("journal_mode = WAL");
        assert.equal(db.pragmaValue("journal_mode"), "wal");
        assert.equal(db.pragmaValue("busy_timeout"), 1234);
      } finally {
        db.close();
      }
    });
  });
}
