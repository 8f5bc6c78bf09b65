import type { PoolConnection } from "mysql2/promise";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { parseTableName } from "../shared/sql-identifier.js";
import { quoteMysqlIdentifier, quoteMysqlTableName } from "../shared/mysql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { MysqlDatabase, MysqlParam } from "./database.js";
import { chunkRows, insertSql, rowBytes } from "./insert-statements.js";
import type { InsertChunk, InsertRow } from "./insert-statements.js";
import { isRowLevelMysqlError } from "./mysql-errors.js";
import { asList } from "./source-query.js";
import type { MysqlSinkOptions } from "./schema.js";
import { createTableSql } from "./table-creation.js";
import { conversionOf, payloadFields, toParam } from "./write-values.js";
import type { ColumnConversion } from "./write-values.js";

interface PendingRow {
  index: number;
  columns: string[];
  values: unknown[];
}

/** Share of max_allowed_packet one statement may use; the rest is headroom for the estimate's error. */
const PACKET_SHARE = 0.75;

export function createMysqlSink(database: MysqlDatabase, options: MysqlSinkOptions, _ctx: SinkContext, sessionOffset: string): Sink {
  return new MysqlSink(database, options, sessionOffset);
}

class MysqlSink implements Sink {
  readonly #database: MysqlDatabase;
  readonly #label: string;
  readonly #table: string;
  readonly #tableName: { schema?: string; table: string };
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #sessionOffset: string;
  #conversions: Map<string, ColumnConversion> | undefined;
  #maxBytes: number | undefined;

  constructor(database: MysqlDatabase, options: MysqlSinkOptions, sessionOffset: string) {
    this.#database = database;
    this.#label = options.table;
    this.#table = quoteMysqlTableName(options.table);
    this.#tableName = parseTableName(options.table);
    this.#keys = asList(options.key);
    for (const key of this.#keys) quoteMysqlIdentifier(key, "key column");
    this.#upsert = (options.mode ?? (this.#keys.length > 0 ? "upsert" : "append")) === "upsert";
    if (this.#upsert && this.#keys.length === 0) {
      throw configError(`mysql target ${options.table}: mode upsert needs key (the column or columns of a PRIMARY KEY or UNIQUE index)`, { code: "config.mysql_sink" });
    }
    this.#createTable = options.create_table ?? false;
    for (const column of options.columns ?? []) quoteMysqlIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
    this.#sessionOffset = sessionOffset;
  }

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("mysql write cancelled by shutdown", { code: "mysql.aborted" }));
    const failures: MessageFailure[] = [];
    const pending = this.#rowsOf(messages, failures);
    if (pending.length === 0) return { failures: sortByIndex(failures) };

    let conversions: Map<string, ColumnConversion>;
    let maxBytes: number;
    try {
      conversions = await this.#prepareTable(pending);
      maxBytes = await this.#packetBudget();
    } catch (error) {
      const failure = this.#database.failure(error, `mysql target ${this.#label}`);
      for (const row of pending) failures.push({ index: row.index, error: failure });
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
    if (rows.length > 0) failures.push(...(await this.#writeInTransaction(chunkRows(rows, maxBytes))));
    return { failures: sortByIndex(failures) };
  }

  /** Converts payloads to rows, reporting bad payloads; duplicate keys collapse to the last copy. */
  #rowsOf(messages: Message[], failures: MessageFailure[]): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
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
      const identity = JSON.stringify(keyValues, (_name, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  /** Creates the table when asked (once) and learns which columns need value conversions. */
  async #prepareTable(rows: readonly PendingRow[]): Promise<Map<string, ColumnConversion>> {
    if (this.#conversions !== undefined) return this.#conversions;
    if (this.#createTable) await this.#database.execute(createTableSql(this.#table, rows, this.#keys));
    const schema = this.#tableName.schema ?? null;
    const columns = await this.#database.execute(
      "SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
      [schema, this.#tableName.table],
    );
    const jsonChecked = new Set<string>();
    try {
      const checks = await this.#database.execute(
        "SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        [schema, this.#tableName.table],
      );
      for (const check of checks.rows) {
        const match = /^json_valid\(`([A-Za-z0-9_]+)`\)$/i.exec(String(check.clause).trim());
        if (match) jsonChecked.add(match[1] as string);
      }
    } catch {
      // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME; there JSON columns have their own DATA_TYPE.
    }
    const conversions = new Map<string, ColumnConversion>();
    for (const column of columns.rows) {
      const conversion = conversionOf(String(column.type), jsonChecked.has(String(column.name)));
      if (conversion !== undefined) conversions.set(String(column.name), conversion);
    }
    if (columns.rows.length > 0) this.#conversions = conversions;
    return conversions;
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
  async #writeInTransaction(chunks: readonly InsertChunk[]): Promise<MessageFailure[]> {
    const failures: MessageFailure[] = [];
    const what = `mysql target ${this.#label}`;
    let connection: PoolConnection | undefined;
    try {
      connection = await this.#database.connection();
      await connection.query("START TRANSACTION");
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
      return chunks.flatMap((chunk) => chunk.rows.map((row) => ({ index: row.index, error: failure })));
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
