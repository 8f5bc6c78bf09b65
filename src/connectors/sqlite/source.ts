import type { SqliteStatement } from "../../state/sqlite/sqlite-driver.js";
import { pause } from "../../core/abort.js";
import { configError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import { applySoftDelete } from "../shared/soft-delete.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { SqliteDatabase } from "./database.js";
import type { SqliteSourceOptions } from "./schema.js";
import { isTransientSqliteError, sqliteFailure } from "./sqlite-errors.js";
import { ROWID_ALIAS, planSourceQuery } from "./source-query.js";
import { readSourceColumns, rowReaderFor } from "./source-columns.js";
import type { SqliteRowReader } from "./source-columns.js";
import { describeSqliteSource } from "./source-description.js";
import type { SourcePlan } from "./source-query.js";

type SqlValue = string | number | bigint | Buffer | null;
type Row = Record<string, unknown>;

/** The keyset checkpoint: cursor and key of the last row acked. */
export interface SqliteCursorCheckpoint {
  cursor: SqlValue;
  key: SqlValue;
}

/** Where the next page starts; undefined = from the beginning. */
type ReadPosition = { cursor: SqlValue; key: SqlValue } | { key: SqlValue } | { rowid: number } | undefined;

export function createSqliteSource(database: SqliteDatabase, configured: SqliteSourceOptions, ctx: SourceContext): Source {
  // The soft_delete column is always read, like key and cursor.
  const options = configured.soft_delete !== undefined && configured.columns !== undefined ? { ...configured, columns: [...configured.columns, configured.soft_delete] } : configured;
  const plan = planSourceQuery(options);
  const batchSize = options.batch_size ?? ctx.batchSize;
  const pollMs = durationMs(options.poll_interval, 1000);

  return {
    describe: async () => describeSqliteSource(database, options, plan),
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const db = database.open();
      let first: SqliteStatement;
      let next: SqliteStatement;
      // Reads exact values by declared type; undefined when the columns cannot be known (read as they come).
      let reader: SqliteRowReader | undefined;
      try {
        reader = rowReaderFor(readSourceColumns(db, options));
        const reading = reader === undefined ? plan : planSourceQuery(options, reader.select);
        first = db.prepare(reading.firstSql);
        next = db.prepare(reading.nextSql);
      } catch (error) {
        // A locked database is a passing condition, not a broken query.
        if (isTransientSqliteError(error)) throw sqliteFailure(error, `sqlite source ${plan.label}: preparing the read`);
        throw configError(`sqlite source ${plan.label}: the read query is invalid: ${error instanceof Error ? error.message : String(error)}; check table, query, columns, key, cursor and where`, {
          code: "config.sqlite_source",
          cause: error,
        });
      }

      const start = plan.mode === "keyset" ? await loadCheckpoint(ctx) : undefined;
      const ledger = new PositionLedger<ReadPosition>(start, async (position) => {
        if (plan.mode === "keyset" && position !== undefined) await ctx.checkpoints.set(position);
      });

      while (!signal.aborted) {
        let rows: Row[];
        try {
          rows = readPage(ledger.reading, batchSize, first, next);
        } catch (error) {
          throw sqliteFailure(error, `sqlite source ${plan.label}: read failed`);
        }
        if (rows.length === 0) {
          if (!ctx.follow) return;
          if (plan.mode !== "keyset") {
            ctx.logger.warn({ table: plan.label }, "sqlite source without cursor read the whole table once; set cursor (and key) to follow changes");
            return;
          }
          if (!(await pause(pollMs, signal))) return;
          continue;
        }
        const messages = rows.map((row) => (reader === undefined ? toMessage(plan, row) : reader.decode(toMessage(plan, reader.restore(row)))));
        const last = (messages[messages.length - 1] as Message<Row>).position as ReadPosition;
        const settle = ledger.advance(last);
        yield {
          messages,
          ack: settle.ack,
          nack: async () => settle.nack(),
          ...(plan.mode === "keyset" && last !== undefined ? { checkpoint: last } : {}),
        };
      }
    },
  };
}

async function loadCheckpoint(ctx: SourceContext): Promise<ReadPosition> {
  const stored = await ctx.checkpoints.get();
  if (stored === undefined || stored === null) return undefined;
  if (typeof stored === "object" && "cursor" in stored && "key" in stored) {
    const { cursor, key } = stored as { cursor: unknown; key: unknown };
    if (isSqlValue(cursor) && isSqlValue(key)) return { cursor, key };
  }
  ctx.logger.warn({ checkpoint: stored }, "sqlite source: ignoring a checkpoint that is not { cursor, key }; reading from the beginning");
  return undefined;
}

function isSqlValue(value: unknown): value is SqlValue {
  return value === null || typeof value === "string" || typeof value === "number";
}

function readPage(position: ReadPosition, limit: number, first: SqliteStatement, next: SqliteStatement): Row[] {
  if (position === undefined) return first.all(limit);
  if ("cursor" in position) return next.all(position.cursor, position.cursor, position.key, limit);
  if ("rowid" in position) return next.all(position.rowid, limit);
  return next.all(position.key, limit);
}

function toMessage(plan: SourcePlan, row: Row): Message<Row> {
  let id: string;
  let key: string | undefined;
  let position: ReadPosition;
  if (plan.mode === "rowid") {
    const rowid = row[ROWID_ALIAS] as number;
    delete row[ROWID_ALIAS];
    id = `${plan.label}:${rowid}`;
    position = { rowid };
  } else {
    key = String(row[plan.key as string]);
    if (plan.mode === "keyset") {
      const cursor = row[plan.cursor as string] as SqlValue;
      id = `${plan.label}:${key}:${String(cursor)}`;
      position = { cursor, key: row[plan.key as string] as SqlValue };
    } else {
      id = `${plan.label}:${key}`;
      position = { key: row[plan.key as string] as SqlValue };
    }
  }
  const message: Message<Row> = { id, payload: row, headers: {}, metadata: { table: plan.label }, correlationId: id, attempt: 1, position };
  if (key !== undefined) message.key = key;
  return applySoftDelete(message, row, plan.softDelete);
}
