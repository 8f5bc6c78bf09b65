import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { parseTableName, quoteIdentifier } from "../shared/sql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import { csvChunks } from "./copy-csv.js";
import type { PostgresDatabase } from "./database.js";
import { isRowLevelPostgresError, postgresFailure } from "./postgres-errors.js";
import { columnKind, payloadFields, toPostgresText } from "./row-values.js";
import type { ColumnKind } from "./row-values.js";
import { columnNames } from "./schema.js";
import type { PostgresSinkOptions } from "./schema.js";
import { createTableSql } from "./table-creation.js";

interface PendingRow {
  index: number;
  fields: Map<string, unknown>;
}

/** Rows with the same set of columns, written with one COPY and one INSERT … SELECT. */
interface RowGroup {
  columns: string[];
  rows: Array<{ index: number; values: Array<string | null> }>;
}

const TARGET_COLUMNS_SQL = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
  WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

export function createPostgresSink(database: PostgresDatabase, options: PostgresSinkOptions, _ctx: SinkContext): Sink {
  return new PostgresSink(database, options);
}

class PostgresSink implements Sink {
  readonly #database: PostgresDatabase;
  readonly #label: string;
  /** `"schema"."table"`, validated. */
  readonly #table: string;
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  /** Column name → SQL type of the target, read on first write. */
  #columns: Map<string, string> | undefined;

  constructor(database: PostgresDatabase, options: PostgresSinkOptions) {
    this.#database = database;
    this.#label = options.table;
    const table = parseTableName(options.table);
    this.#table = `${quoteIdentifier(table.schema ?? database.schema, "schema")}.${quoteIdentifier(table.table, "table")}`;
    this.#keys = columnNames(options.key);
    for (const key of this.#keys) quoteIdentifier(key, "key column");
    this.#upsert = (options.mode ?? (this.#keys.length > 0 ? "upsert" : "append")) === "upsert";
    if (this.#upsert && this.#keys.length === 0) {
      throw configError(`postgres target ${options.table}: mode upsert needs key (the column or columns of a PRIMARY KEY or UNIQUE constraint)`, { code: "config.postgres_sink" });
    }
    this.#createTable = options.create_table ?? false;
    if (options.columns !== undefined) for (const column of options.columns) quoteIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
  }

  get #what(): string {
    return `postgres target ${this.#label}`;
  }

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("postgres write cancelled by shutdown", { code: "postgres.aborted" }));
    const failures: MessageFailure[] = [];
    const rows = this.#rowsOf(messages, failures);
    if (rows.length === 0) return { failures };

    let columns: Map<string, string>;
    try {
      columns = await this.#targetColumns(rows);
    } catch (error) {
      return this.#failRows(rows, failures, postgresFailure(error, this.#what));
    }
    const groups = this.#group(rows, columns, failures);
    if (groups.length === 0) return { failures: sortByIndex(failures) };
    const writing = groups.flatMap((group) => group.rows);

    let client: PoolClient;
    try {
      client = await this.#database.client();
    } catch (error) {
      return this.#failRows(writing, failures, postgresFailure(error, this.#what));
    }
    let broken: Error | undefined;
    const rejected: MessageFailure[] = [];
    try {
      await client.query("BEGIN");
      for (const [number, group] of groups.entries()) rejected.push(...(await this.#writeGroup(client, group, number)));
      await client.query("COMMIT");
      failures.push(...rejected);
    } catch (error) {
      broken = await rollbackQuietly(client, error);
      const failure = postgresFailure(error, this.#what);
      if (failure.kind === "config") this.#columns = undefined;
      return this.#failRows(writing, failures, failure);
    } finally {
      client.release(broken);
    }
    return { failures: sortByIndex(failures) };
  }

  /** Validates payloads and collapses duplicate keys to the last copy. */
  #rowsOf(messages: Message[], failures: MessageFailure[]): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
      const converted = payloadFields(message.payload, this.#only);
      if (!converted.ok) {
        failures.push({ index, error: converted.error });
        return;
      }
      const row: PendingRow = { index, fields: converted.fields };
      if (this.#keys.length === 0) {
        rows.push(row);
        return;
      }
      const keyText = this.#keys.map((key) => toPostgresText(row.fields.get(key), "other"));
      const missing = this.#keys.find((_, at) => keyText[at] === null);
      if (missing !== undefined) {
        if (this.#upsert) {
          failures.push({ index, error: permanentError(`payload has no value for key column ${missing}; every row written by upsert needs its key`, { code: "postgres.bad_payload" }) });
        } else rows.push(row);
        return;
      }
      const identity = JSON.stringify(keyText);
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  async #targetColumns(rows: readonly PendingRow[]): Promise<Map<string, string>> {
    if (this.#columns !== undefined) return this.#columns;
    let columns = await this.#readColumns();
    if (columns.size === 0 && this.#createTable) {
      await this.#database.query(createTableSql(this.#table, rows.map((row) => row.fields), this.#keys));
      columns = await this.#readColumns();
    }
    if (columns.size === 0) {
      throw configError(`${this.#what}: table ${this.#table} does not exist; create it, check the schema option, or set create_table: true`, { code: "postgres.no_such_table" });
    }
    this.#columns = columns;
    return columns;
  }

  async #readColumns(): Promise<Map<string, string>> {
    const result = await this.#database.query<{ name: string; type: string }>(TARGET_COLUMNS_SQL, [this.#table]);
    return new Map(result.rows.map((row) => [row.name, row.type]));
  }

  /** Rows grouped by their column set, values as PostgreSQL text; a field the table lacks fails its message. */
  #group(rows: readonly PendingRow[], columns: ReadonlyMap<string, string>, failures: MessageFailure[]): RowGroup[] {
    const groups = new Map<string, RowGroup>();
    for (const row of rows) {
      const unknown = [...row.fields.keys()].find((name) => !columns.has(name));
      if (unknown !== undefined) {
        failures.push({
          index: row.index,
          error: permanentError(`${this.#what}: column ${unknown} does not exist in ${this.#table}; add the column or drop the field with a transform`, {
            code: "postgres.unknown_column",
          }),
        });
        continue;
      }
      const names = [...row.fields.keys()];
      const signature = [...names].sort().join(",");
      let group = groups.get(signature);
      if (group === undefined) {
        group = { columns: names, rows: [] };
        groups.set(signature, group);
      }
      const kinds: ColumnKind[] = group.columns.map((name) => columnKind(columns.get(name) as string));
      group.rows.push({ index: row.index, values: group.columns.map((name, at) => toPostgresText(row.fields.get(name), kinds[at] as ColumnKind)) });
    }
    return [...groups.values()];
  }

  /**
   * COPY into a staging table, then one INSERT … SELECT. When a row breaks a constraint or
   * a datatype rule, the group is re-run row by row under savepoints: only the bad rows fail.
   */
  async #writeGroup(client: PoolClient, group: RowGroup, number: number): Promise<MessageFailure[]> {
    const stage = `"junction_stage_${number}"`;
    const columns = group.columns.map((column) => quoteIdentifier(column)).join(", ");
    await client.query("SAVEPOINT junction_group");
    try {
      await client.query(`CREATE TEMP TABLE ${stage} (LIKE ${this.#table} INCLUDING DEFAULTS) ON COMMIT DROP`);
      const copy = client.query(copyFrom(`COPY ${stage} (${columns}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(Readable.from(csvChunks(group.rows.map((row) => row.values))), copy);
      await client.query(`INSERT INTO ${this.#table} (${columns}) SELECT ${columns} FROM ${stage}${this.#conflictClause(group.columns)}`);
      await client.query("RELEASE SAVEPOINT junction_group");
      return [];
    } catch (error) {
      if (!isRowLevelPostgresError(error)) throw error;
      await client.query("ROLLBACK TO SAVEPOINT junction_group");
    }
    const failures: MessageFailure[] = [];
    const insert = `INSERT INTO ${this.#table} (${columns}) VALUES (${group.columns.map((_, at) => `$${at + 1}`).join(", ")})${this.#conflictClause(group.columns)}`;
    for (const row of group.rows) {
      await client.query("SAVEPOINT junction_row");
      try {
        await client.query(insert, row.values);
        await client.query("RELEASE SAVEPOINT junction_row");
      } catch (error) {
        if (!isRowLevelPostgresError(error)) throw error;
        await client.query("ROLLBACK TO SAVEPOINT junction_row");
        await client.query("RELEASE SAVEPOINT junction_row");
        failures.push({ index: row.index, error: postgresFailure(error, this.#what) });
      }
    }
    await client.query("RELEASE SAVEPOINT junction_group");
    return failures;
  }

  #conflictClause(columns: readonly string[]): string {
    if (!this.#upsert) return "";
    const conflict = this.#keys.map((key) => quoteIdentifier(key, "key column")).join(", ");
    const updates = columns.filter((column) => !this.#keys.includes(column)).map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`);
    return updates.length === 0 ? ` ON CONFLICT (${conflict}) DO NOTHING` : ` ON CONFLICT (${conflict}) DO UPDATE SET ${updates.join(", ")}`;
  }

  #failRows(rows: ReadonlyArray<{ index: number }>, failures: MessageFailure[], error: JunctionError): WriteOutcome {
    for (const row of rows) failures.push({ index: row.index, error });
    return { failures: sortByIndex(failures) };
  }
}

function sortByIndex(failures: MessageFailure[]): MessageFailure[] {
  return failures.sort((a, b) => a.index - b.index);
}

/**
 * Rolls back whatever is open. Returns the error to release the client with when the
 * connection itself is suspect (so the pool discards it), undefined when it is reusable.
 */
async function rollbackQuietly(client: PoolClient, cause: unknown): Promise<Error | undefined> {
  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}
