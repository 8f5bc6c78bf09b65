import type { PoolConnection } from "mysql2/promise";
import { configError } from "../../core/errors.js";
import { quoteMysqlIdentifier } from "../shared/mysql-identifier.js";
import type { TableName } from "../shared/sql-identifier.js";
import { replaceTableNames } from "../shared/staging-table-name.js";
import type { MysqlDatabase } from "./database.js";
import { mysqlTableExists } from "./table-exists.js";

/** MySQL and MariaDB identifiers are at most 64 characters. */
const MAX_IDENTIFIER_LENGTH = 64;

/** Other tables' foreign keys to the table and the table's triggers: RENAME TABLE takes both along to the old table, which then cannot be dropped or loses them. */
const DEPENDENTS_SQL = `SELECT CONCAT('foreign key ', CONSTRAINT_NAME, ' of ', TABLE_NAME) AS what FROM information_schema.REFERENTIAL_CONSTRAINTS
    WHERE UNIQUE_CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND REFERENCED_TABLE_NAME = ? AND NOT (CONSTRAINT_SCHEMA = UNIQUE_CONSTRAINT_SCHEMA AND TABLE_NAME = REFERENCED_TABLE_NAME)
  UNION ALL
  SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS
    WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ?
  ORDER BY 1`;

/**
 * The staging table of a `replace` target: `CREATE TABLE … LIKE target` at the start of a
 * run, filled by the run, and swapped in with one atomic `RENAME TABLE target TO old,
 * staging TO target` when the run completes, then the old table is dropped. A run that fails
 * or is stopped never swaps; its staging table (and an old table left by a crash between
 * the rename and the drop) is dropped at the next start.
 */
export class MysqlReplaceStaging {
  /** `` `db`.`table` `` or `` `table` `` of the target. */
  readonly target: string;
  readonly staging: string;
  readonly stagingName: TableName;
  readonly #old: string;
  readonly #table: TableName;
  readonly #database: MysqlDatabase;
  readonly #what: string;

  constructor(database: MysqlDatabase, table: TableName, what: string) {
    this.#database = database;
    this.#table = table;
    this.#what = what;
    const names = replaceTableNames(table.table, MAX_IDENTIFIER_LENGTH);
    this.stagingName = table.schema === undefined ? { table: names.staging } : { schema: table.schema, table: names.staging };
    this.target = quoted(table.schema, table.table);
    this.staging = quoted(table.schema, names.staging);
    this.#old = quoted(table.schema, names.old);
  }

  /** Drops leftovers, refuses a target that foreign keys or triggers tie to its identity, creates the staging table; false when the target does not exist yet. */
  async prepare(): Promise<boolean> {
    try {
      await this.#database.execute(`DROP TABLE IF EXISTS ${this.staging}, ${this.#old}`);
      if (!(await this.#exists(this.#table))) return false;
      await this.#refuseDependents();
      await this.#database.execute(`CREATE TABLE ${this.staging} LIKE ${this.target}`);
      return true;
    } catch (error) {
      throw this.#database.failure(error, `${this.#what}: preparing the staging table ${this.staging}`);
    }
  }

  /** Swaps the staging table in. Readers wait on the rename's metadata lock and never see the table missing or empty. */
  async swap(): Promise<void> {
    let connection: PoolConnection | undefined;
    try {
      const target = await this.#exists(this.#table);
      const staging = await this.#exists(this.stagingName);
      if (!staging) {
        if (target) throw configError(`${this.#what}: the staging table ${this.staging} is gone (dropped by someone else?); the target is left as it was, run again`, { code: "mysql.no_staging" });
        return;
      }
      connection = await this.#database.connection();
      if (!target) {
        await connection.query(`RENAME TABLE ${this.staging} TO ${this.target}`);
        return;
      }
      await this.#refuseDependents();
      await connection.query(`RENAME TABLE ${this.target} TO ${this.#old}, ${this.staging} TO ${this.target}`);
      await connection.query(`DROP TABLE ${this.#old}`);
    } catch (error) {
      throw this.#database.failure(error, `${this.#what}: swapping in ${this.staging}`);
    } finally {
      connection?.release();
    }
  }

  async #exists(table: TableName): Promise<boolean> {
    return mysqlTableExists(this.#database, table);
  }

  async #refuseDependents(): Promise<void> {
    const schema = this.#table.schema ?? null;
    const result = await this.#database.execute(DEPENDENTS_SQL, [schema, this.#table.table, schema, this.#table.table]);
    const dependents = result.rows.map((row) => String(row.what));
    if (dependents.length === 0) return;
    throw configError(
      `${this.#what}: mode replace swaps in a new table, but ${dependents.join(", ")} would follow the old table and be dropped with it or block the drop; remove them or use mode upsert or merge`,
      { code: "mysql.replace_dependents" },
    );
  }
}

function quoted(schema: string | undefined, table: string): string {
  const name = quoteMysqlIdentifier(table, "table");
  return schema === undefined ? name : `${quoteMysqlIdentifier(schema, "database")}.${name}`;
}
