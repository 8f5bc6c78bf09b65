import { configError } from "../../core/errors.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import type { TableName } from "../shared/sql-identifier.js";
import { replaceTableNames } from "../shared/staging-table-name.js";
import type { SqliteHandle } from "./database.js";

/** One SQL name as SQLite accepts it: "double", [bracket], `backtick` or 'single' quoted, or bare. */
const NAME = String.raw`(?:"(?:[^"]|"")*"|\[[^\]]*\]|` + "`(?:[^`]|``)*`" + String.raw`|'(?:[^']|'')*'|[^\s.("'` + "`" + String.raw`\[]+)`;
const CREATE_TABLE = new RegExp(String.raw`^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\s*\.\s*)?${NAME}\s*\(`, "i");
const CREATE_UNIQUE_INDEX = new RegExp(String.raw`^\s*CREATE\s+UNIQUE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\s*\.\s*)?${NAME}\s+ON\s+${NAME}\s*\(`, "i");

/**
 * The staging table of a `replace` target. At the start of a run it is created from the
 * target's own `CREATE TABLE` text (from sqlite_master, with only the name replaced: same
 * columns, types, constraints, STRICT / WITHOUT ROWID) plus copies of its UNIQUE indexes (so
 * upsert by key works); the run fills it; when the run completes, one transaction drops the
 * target, renames the staging table to the target's name and re-creates the target's indexes
 * and triggers from their own text. A run that fails or is stopped never swaps; its staging
 * table is dropped at the next start.
 */
export class SqliteReplaceStaging {
  /** `"schema"."table"` or `"table"` of the target. */
  readonly target: string;
  readonly staging: string;
  /** The staging table unquoted, "table" or "schema.table". */
  readonly stagingName: string;
  readonly #table: TableName;
  readonly #stagingTable: string;
  readonly #master: string;
  readonly #what: string;
  /** Names of the unique indexes copied onto the staging table. */
  #stagingIndexes: string[] = [];

  constructor(table: TableName, what: string) {
    this.#table = table;
    this.#what = what;
    this.#stagingTable = replaceTableNames(table.table, Number.POSITIVE_INFINITY).staging;
    this.target = this.#qualified(table.table);
    this.staging = this.#qualified(this.#stagingTable);
    this.stagingName = table.schema === undefined ? this.#stagingTable : `${table.schema}.${this.#stagingTable}`;
    this.#master = table.schema === undefined ? "sqlite_master" : `${quoteIdentifier(table.schema, "schema")}.sqlite_master`;
  }

  /** Drops a leftover staging table and creates a fresh one like the target; false when the target does not exist yet. */
  prepare(db: SqliteHandle): boolean {
    db.exec(`DROP TABLE IF EXISTS ${this.staging}`);
    this.#stagingIndexes = [];
    const table = db.prepare(`SELECT sql FROM ${this.#master} WHERE type = 'table' AND name = ? COLLATE NOCASE`).get(this.#table.table);
    if (table === undefined) return false;
    this.#refuseForeignKeys(db);
    db.exec(this.#renamedCreateTable(String(table.sql)));
    const uniques = db.prepare(`SELECT sql FROM ${this.#master} WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL`).all(this.#table.table);
    for (const index of uniques) {
      const sql = String(index.sql);
      if (!CREATE_UNIQUE_INDEX.test(sql)) continue;
      const name = `${this.#stagingTable}__unique_${this.#stagingIndexes.length + 1}`;
      db.exec(sql.replace(CREATE_UNIQUE_INDEX, `CREATE UNIQUE INDEX ${this.#qualified(name)} ON ${quoteIdentifier(this.#stagingTable, "table")} (`));
      this.#stagingIndexes.push(name);
    }
    return true;
  }

  /**
   * In one transaction: the target's indexes and triggers are read, the target dropped, the
   * staging table renamed to its name, and the indexes and triggers re-created from their
   * text. legacy_alter_table is on for the rename, so views and other tables' triggers and
   * foreign keys, which name the table, are left as written and now see the new table.
   * Readers on other connections (WAL) see the old table until the commit.
   */
  swap(db: SqliteHandle): void {
    const exists = (name: string): boolean => db.prepare(`SELECT 1 FROM ${this.#master} WHERE type = 'table' AND name = ? COLLATE NOCASE`).get(name) !== undefined;
    db.transaction(() => {
      const target = exists(this.#table.table);
      if (!exists(this.#stagingTable)) {
        if (target) throw configError(`${this.#what}: the staging table ${this.staging} is gone (dropped by someone else?); the target is left as it was, run again`, { code: "sqlite.no_staging" });
        return;
      }
      const carried = target
        ? db.prepare(`SELECT sql FROM ${this.#master} WHERE type IN ('index', 'trigger') AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY type, name`).all(this.#table.table)
        : [];
      const legacy = Number(db.pragmaValue("legacy_alter_table")) === 1;
      db.pragma("legacy_alter_table = ON");
      try {
        if (target) db.exec(`DROP TABLE ${this.target}`);
        db.exec(`ALTER TABLE ${this.staging} RENAME TO ${quoteIdentifier(this.#table.table, "table")}`);
      } finally {
        if (!legacy) db.pragma("legacy_alter_table = OFF");
      }
      for (const name of this.#stagingIndexes) db.exec(`DROP INDEX IF EXISTS ${this.#qualified(name)}`);
      for (const row of carried) db.exec(String(row.sql));
    }, "immediate");
    this.#stagingIndexes = [];
  }

  /**
   * Foreign keys that name the target (its own included): dropping the target would check
   * them (both drivers turn foreign_keys on) and fail the swap, and a self-reference in the
   * copied definition would point the staging table at the old one.
   */
  #refuseForeignKeys(db: SqliteHandle): void {
    const schema = this.#table.schema;
    const referring = db
      .prepare(
        `SELECT DISTINCT m.name AS name FROM ${this.#master} AS m JOIN pragma_foreign_key_list(m.name${schema === undefined ? "" : ", ?"}) AS f WHERE m.type = 'table' AND f."table" = ? COLLATE NOCASE ORDER BY m.name`,
      )
      .all(...(schema === undefined ? [] : [schema]), this.#table.table)
      .map((row) => String(row.name));
    if (referring.length === 0) return;
    throw configError(
      `${this.#what}: mode replace drops ${this.target} and renames a new table in, but foreign keys of ${referring.join(", ")} refer to it and would fail the drop or point at the old rows; remove them or use mode upsert or merge`,
      { code: "config.sqlite_sink" },
    );
  }

  /** The target's CREATE TABLE text with the staging table's name. */
  #renamedCreateTable(sql: string): string {
    if (!CREATE_TABLE.test(sql)) {
      throw configError(`${this.#what}: mode replace cannot copy the definition of ${this.target} (${sql.slice(0, 60)}…); it works with ordinary tables, not virtual ones`, {
        code: "config.sqlite_sink",
      });
    }
    return sql.replace(CREATE_TABLE, `CREATE TABLE ${this.staging} (`);
  }

  #qualified(name: string): string {
    const table = quoteIdentifier(name, "table");
    return this.#table.schema === undefined ? table : `${quoteIdentifier(this.#table.schema, "schema")}.${table}`;
  }
}
