import type { PoolConnection } from "mysql2/promise";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { planRowChanges } from "../shared/collapse-by-key.js";
import type { KeyDelete, RowChangeOptions } from "../shared/collapse-by-key.js";
import { parseTableName } from "../shared/sql-identifier.js";
import { quoteMysqlIdentifier, quoteMysqlTableName } from "../shared/mysql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, SinkRunStart, WriteOutcome } from "../types.js";
import type { MysqlDatabase, MysqlParam } from "./database.js";
import { chunkRows, insertSql, rowBytes } from "./insert-statements.js";
import type { InsertChunk, InsertRow } from "./insert-statements.js";
import { deleteByKey } from "./merge-deletes.js";
import { isRowLevelMysqlError } from "./mysql-errors.js";
import { MysqlReplaceStaging } from "./replace-staging.js";
import { asList } from "./source-query.js";
import type { MysqlSinkOptions } from "./schema.js";
import { MysqlTargetColumns } from "./target-columns.js";
import { mysqlTableExists } from "./table-exists.js";
import { jsonText, payloadFields, toParam } from "./write-values.js";
import type { ColumnConversion } from "./write-values.js";

interface PendingRow {
  index: number;
  columns: string[];
  values: unknown[];
}

/** Share of max_allowed_packet one statement may use; the rest is headroom for the estimate's error. */
const PACKET_SHARE = 0.75;

export function createMysqlSink(database: MysqlDatabase, options: MysqlSinkOptions, ctx: SinkContext, sessionOffset: string): Sink {
  return new MysqlSink(database, options, sessionOffset, ctx.logger);
}

class MysqlSink implements Sink {
  readonly #database: MysqlDatabase;
  readonly #label: string;
  /** The target, or the staging table while a replace run is open. */
  #table: string;
  #tableName: { schema?: string; table: string };
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #changes: RowChangeOptions;
  readonly #replace: MysqlReplaceStaging | undefined;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #sessionOffset: string;
  #conversions: Map<string, ColumnConversion> | undefined;
  #maxBytes: number | undefined;
  /** Creates the table, applies on_schema_change and knows the column conversions. */
  readonly #target: MysqlTargetColumns;

  constructor(database: MysqlDatabase, options: MysqlSinkOptions, sessionOffset: string, logger: SinkContext["logger"]) {
    this.#database = database;
    this.#label = options.table;
    this.#table = quoteMysqlTableName(options.table);
    this.#tableName = parseTableName(options.table);
    this.#keys = asList(options.key);
    for (const key of this.#keys) quoteMysqlIdentifier(key, "key column");
    const mode = options.mode ?? (this.#keys.length > 0 ? "upsert" : "append");
    if ((mode === "upsert" || mode === "merge") && this.#keys.length === 0) {
      throw configError(`mysql target ${options.table}: mode ${mode} needs key (the column or columns of a PRIMARY KEY or UNIQUE index)`, { code: "config.mysql_sink" });
    }
    // replace writes its staging table like upsert when there is a key (a retried batch is harmless), like append otherwise.
    this.#upsert = mode !== "append" && this.#keys.length > 0;
    this.#changes = { keys: this.#keys, mode, appliesDeletes: this.#upsert && mode !== "upsert", what: `mysql target ${options.table}`, system: "mysql" };
    this.#replace = mode === "replace" ? new MysqlReplaceStaging(database, this.#tableName, `mysql target ${options.table}`) : undefined;
    this.#createTable = options.create_table ?? false;
    for (const column of options.columns ?? []) quoteMysqlIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
    this.#sessionOffset = sessionOffset;
    this.#target = new MysqlTargetColumns(database, {
      what: `mysql target ${options.table}`,
      keys: this.#keys,
      createTable: this.#createTable,
      only: this.#only,
      policy: options.on_schema_change ?? "fail",
      logger,
    });
  }

  /** replace: a fresh staging table receives this run's writes. */
  async begin(run: SinkRunStart, _signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined) return this.#beginTarget(run);
    const targetExists = await this.#replace.prepare();
    if (!targetExists && !this.#createTable) {
      throw configError(`mysql target ${this.#label}: table ${this.#replace.target} does not exist; create it, check the table name, or set create_table: true`, { code: "mysql.no_such_table" });
    }
    this.#table = this.#replace.staging;
    this.#tableName = this.#replace.stagingName;
    this.#conversions = undefined;
    await this.#beginTarget(run);
  }

  /** Creates the missing table from the source's declared columns, or checks the table against them (on_schema_change). */
  async #beginTarget(run: SinkRunStart): Promise<void> {
    try {
      await this.#target.begin({ name: this.#tableName, quoted: this.#table }, run.schema);
    } catch (error) {
      throw this.#database.failure(error, `mysql target ${this.#label}`);
    }
  }

  /** replace: the run ended cleanly, the staging table becomes the target. */
  async complete(_signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined || this.#table !== this.#replace.staging) return;
    await this.#replace.swap();
    this.#table = this.#replace.target;
    this.#tableName = parseTableName(this.#label);
    this.#conversions = undefined;
  }

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("mysql write cancelled by shutdown", { code: "mysql.aborted" }));
    const changes = planRowChanges(messages, this.#changes);
    const failures: MessageFailure[] = changes.failures;
    const pending = this.#rowsOf(messages, failures, changes.skipped);
    const deletes = changes.deletes;
    if (pending.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };

    let conversions: Map<string, ColumnConversion>;
    let maxBytes: number;
    try {
      // Deletes alone never create the table: with create_table, a missing table has nothing to delete.
      if (pending.length === 0 && this.#createTable && !(await mysqlTableExists(this.#database, this.#tableName))) return { failures: sortByIndex(failures) };
      conversions = await this.#prepareTable(pending);
      maxBytes = await this.#packetBudget();
    } catch (error) {
      const failure = this.#database.failure(error, `mysql target ${this.#label}`);
      for (const row of [...pending, ...deletes]) failures.push({ index: row.index, error: failure });
      return { failures: sortByIndex(failures) };
    }

    const rows: InsertRow[] = [];
    for (const row of pending) {
      try {
        const params = row.values.map((value, at) => toParam(value, row.columns[at] as string, conversions.get(row.columns[at] as string), this.#sessionOffset));
        const insertRow: InsertRow = { index: row.index, columns: row.columns, params };
        const size = rowBytes(insertRow);
        if (size > maxBytes) {
          throw permanentError(`row is about ${size} bytes, more than one statement may carry (max_allowed_packet is ${Math.round(maxBytes / PACKET_SHARE)}); shrink the row or raise max_allowed_packet`, {
            code: "mysql.row_too_large",
          });
        }
        rows.push(insertRow);
      } catch (error) {
        failures.push({ index: row.index, error });
      }
    }
    if (rows.length > 0 || deletes.length > 0) failures.push(...(await this.#writeInTransaction(chunkRows(rows, maxBytes), deletes, conversions, maxBytes)));
    return { failures: sortByIndex(failures) };
  }

  /** Converts payloads to rows, reporting bad payloads; duplicate keys collapse to the last copy; `skipped` (deletes, superseded rows) are left out. */
  #rowsOf(messages: Message[], failures: MessageFailure[], skipped: ReadonlySet<number>): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
      if (skipped.has(index)) return;
      const fields = payloadFields(message.payload, this.#only);
      if (!fields.ok) {
        failures.push({ index, error: fields.error });
        return;
      }
      const row: PendingRow = { index, columns: fields.columns, values: fields.values };
      if (this.#keys.length === 0) {
        rows.push(row);
        return;
      }
      const keyValues = this.#keys.map((key) => {
        const at = row.columns.indexOf(key);
        return at === -1 ? null : (row.values[at] ?? null);
      });
      if (keyValues.includes(null)) {
        if (this.#upsert) {
          const missing = this.#keys.filter((_, at) => keyValues[at] === null).join(", ");
          failures.push({ index, error: permanentError(`payload has no value for key column ${missing}; every row written by upsert needs its key`, { code: "mysql.bad_payload" }) });
          return;
        }
        rows.push(row);
        return;
      }
      const identity = jsonText(keyValues);
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  /** Creates or evolves the table as configured (fields dropped by on_schema_change: freeze leave `rows`) and learns which columns need value conversions. */
  async #prepareTable(rows: PendingRow[]): Promise<Map<string, ColumnConversion>> {
    this.#conversions = await this.#target.conversionsFor({ name: this.#tableName, quoted: this.#table }, rows);
    return this.#conversions;
  }

  async #packetBudget(): Promise<number> {
    if (this.#maxBytes !== undefined) return this.#maxBytes;
    const result = await this.#database.execute("SELECT @@max_allowed_packet AS max_packet");
    const maxPacket = Number(result.rows[0]?.max_packet ?? 4_194_304);
    this.#maxBytes = Math.floor(Math.min(maxPacket, 1_073_741_824) * PACKET_SHARE);
    return this.#maxBytes;
  }

  /**
   * One transaction per batch, multi-row INSERTs in chunks. When a chunk is rejected for
   * one row's data (constraint, NULL, too long), InnoDB has rolled back that statement
   * only; its rows are re-run one by one under savepoints so only the bad rows fail.
   * Anything else rolls the batch back and fails every row with the same error.
   */
  async #writeInTransaction(chunks: readonly InsertChunk[], deletes: readonly KeyDelete[], conversions: ReadonlyMap<string, ColumnConversion>, maxBytes: number): Promise<MessageFailure[]> {
    const failures: MessageFailure[] = [];
    const what = `mysql target ${this.#label}`;
    let connection: PoolConnection | undefined;
    try {
      connection = await this.#database.connection();
      await connection.query("START TRANSACTION");
      if (deletes.length > 0) {
        const target = { table: this.#table, keys: this.#keys, conversions, sessionOffset: this.#sessionOffset, database: this.#database, what };
        failures.push(...(await deleteByKey(connection, target, deletes, maxBytes)));
      }
      for (const chunk of chunks) {
        try {
          await connection.execute(insertSql(this.#table, chunk.columns, chunk.rows.length, this.#upsert ? this.#keys : undefined), chunk.rows.flatMap((row) => row.params) as MysqlParam[]);
        } catch (error) {
          if (!isRowLevelMysqlError(error)) throw error;
          failures.push(...(await this.#writeRowByRow(connection, chunk)));
        }
      }
      await connection.query("COMMIT");
      return failures;
    } catch (error) {
      const failure = this.#database.failure(error, what);
      if (failure.kind === "transient") {
        // The session may be broken mid-transaction: never hand it back to the pool.
        connection?.destroy();
        connection = undefined;
      } else {
        await rollbackQuietly(connection);
      }
      return [...deletes, ...chunks.flatMap((chunk) => chunk.rows)].map((row) => ({ index: row.index, error: failure }));
    } finally {
      connection?.release();
    }
  }

  async #writeRowByRow(connection: PoolConnection, chunk: InsertChunk): Promise<MessageFailure[]> {
    const failures: MessageFailure[] = [];
    const sql = insertSql(this.#table, chunk.columns, 1, this.#upsert ? this.#keys : undefined);
    for (const row of chunk.rows) {
      await connection.query("SAVEPOINT junction_row");
      try {
        await connection.execute(sql, row.params as MysqlParam[]);
      } catch (error) {
        if (!isRowLevelMysqlError(error)) throw error;
        await connection.query("ROLLBACK TO SAVEPOINT junction_row");
        failures.push({ index: row.index, error: this.#database.failure(error, `mysql target ${this.#label}`) });
      }
      await connection.query("RELEASE SAVEPOINT junction_row");
    }
    return failures;
  }
}

function sortByIndex(failures: MessageFailure[]): MessageFailure[] {
  return failures.sort((a, b) => a.index - b.index);
}

/** Rolls back whatever is open; the caller already reports the original error. */
async function rollbackQuietly(connection: PoolConnection | undefined): Promise<void> {
  try {
    await connection?.query("ROLLBACK");
  } catch {
    // The connection may be gone; the server rolls back a transaction whose session ended.
  }
}
