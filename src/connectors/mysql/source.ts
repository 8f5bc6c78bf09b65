import { pause } from "../../core/abort.js";
import type { Message } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import { applySoftDelete } from "../shared/soft-delete.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { MysqlDatabase, MysqlResult, MysqlRow } from "./database.js";
import { fromPositionValue, isPositionValue, normalizeRow, rowToPayload, toPositionValue } from "./read-values.js";
import type { PositionValue } from "./read-values.js";
import type { MysqlSourceOptions } from "./schema.js";
import { keysetParams, planSourceQuery } from "./source-query.js";
import { describeMysqlSource } from "./source-description.js";
import type { SourcePlan } from "./source-query.js";

/** The incremental checkpoint: the keyset values (cursor columns, then key columns) of the last row acked. */
export interface MysqlCursorCheckpoint {
  after: Record<string, PositionValue>;
}

/** Keyset values of the last row read, in `plan.order`; undefined = from the beginning. */
type ReadPosition = PositionValue[] | undefined;

export function createMysqlSource(database: MysqlDatabase, options: MysqlSourceOptions, ctx: SourceContext, sessionOffset: string): Source {
  const batchSize = options.batch_size ?? ctx.batchSize;
  const plan = planSourceQuery(options, batchSize);
  const pollMs = durationMs(options.poll_interval, 1000);
  const what = `mysql source ${plan.label}`;

  return {
    describe: () => describeMysqlSource(database, options, plan),
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const start = plan.incremental ? await loadCheckpoint(plan, ctx) : undefined;
      const ledger = new PositionLedger<ReadPosition>(start, async (position) => {
        if (plan.incremental && position !== undefined) {
          const checkpoint: MysqlCursorCheckpoint = { after: Object.fromEntries(plan.order.map((column, index) => [column, position[index] ?? null])) };
          await ctx.checkpoints.set(checkpoint);
        }
      });

      while (!signal.aborted) {
        let result: MysqlResult;
        const position = ledger.reading;
        try {
          result = position === undefined ? await database.execute(plan.firstSql) : await database.execute(plan.nextSql, keysetParams(position.map(fromPositionValue)));
        } catch (error) {
          throw database.failure(error, `${what}: read failed`);
        }
        if (result.rows.length === 0) {
          if (!ctx.follow) return;
          if (!plan.incremental) {
            ctx.logger.warn({ table: plan.label }, "mysql source in full_refresh mode read the whole table once; set cursor (mode incremental) to follow changes");
            return;
          }
          if (!(await pause(pollMs, signal))) return;
          continue;
        }
        for (const row of result.rows) normalizeRow(row, result.fields);
        const messages = result.rows.map((row) => toMessage(plan, row, result, sessionOffset));
        const last = result.rows[result.rows.length - 1] as MysqlRow;
        const settle = ledger.advance(plan.order.map((column) => toPositionValue(last[column])));
        yield { messages, ack: settle.ack, nack: async () => settle.nack() };
      }
    },
  };
}

async function loadCheckpoint(plan: SourcePlan, ctx: SourceContext): Promise<ReadPosition> {
  const stored = await ctx.checkpoints.get();
  if (stored === undefined || stored === null) return undefined;
  const after = (stored as { after?: unknown }).after;
  if (typeof after === "object" && after !== null) {
    const values = plan.order.map((column) => (after as Record<string, unknown>)[column]);
    if (values.every((value) => value !== undefined && isPositionValue(value))) return values as PositionValue[];
  }
  ctx.logger.warn({ checkpoint: stored, columns: plan.order }, "mysql source: the checkpoint does not match the cursor and key columns; reading from the beginning");
  return undefined;
}

function toMessage(plan: SourcePlan, row: MysqlRow, result: MysqlResult, sessionOffset: string): Message<MysqlRow> {
  const keyValues = plan.keys.map((key) => keyText(row[key]));
  const key = keyValues.length === 1 ? (keyValues[0] as string) : JSON.stringify(keyValues);
  const version = plan.incremental ? `:${plan.cursors.map((cursor) => keyText(row[cursor])).join(",")}` : "";
  const id = `${plan.label}:${key}${version}`;
  const payload = rowToPayload(row, result.fields, sessionOffset);
  return applySoftDelete({ id, key, payload, headers: {}, metadata: { table: plan.label }, correlationId: id, attempt: 1 }, payload, plan.softDelete);
}

function keyText(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString("base64");
  return String(value);
}
