import { pause } from "../../core/abort.js";
import { configError } from "../../core/errors.js";
import { createVerbatimMessage } from "../../core/message.js";
import type { Message, VerbatimRow } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import { applySoftDelete } from "../shared/soft-delete.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { postgresFailure } from "./postgres-errors.js";
import { describePostgresSource } from "./source-description.js";
import type { PostgresSourceOptions } from "./schema.js";
import { KeysetPages, pageSizeFor } from "./keyset-pages.js";
import type { PageColumns } from "./keyset-pages.js";
import { POSTGRES_COPY_TEXT } from "./verbatim-rows.js";
import { messageNaming, planSourceQuery, probeSql } from "./source-query.js";
import type { MessageNaming, SourcePlan } from "./source-query.js";

type Row = Record<string, unknown>;

/**
 * The incremental checkpoint: the `order` columns (cursor…, key…) and their values in the
 * last row acked, as PostgreSQL's own text, so they cast back exactly.
 */
export interface PostgresCursorCheckpoint {
  columns: string[];
  values: string[];
}

/** Text of the `order` columns of the last row read; undefined = from the beginning. */
type ReadPosition = string[] | undefined;

const TIME_TYPES = new Set(["timestamp with time zone", "timestamp without time zone", "date"]);

export function createPostgresSource(database: PostgresDatabase, options: PostgresSourceOptions, ctx: SourceContext): Source {
  const lagMs = options.lag === undefined ? undefined : durationMs(options.lag, 0);
  const plan = planSourceQuery(options, database.schema, lagMs);
  const batchSize = options.batch_size ?? ctx.batchSize;
  const pollMs = durationMs(options.poll_interval, 1000);
  const what = `postgres source ${plan.label}`;
  const naming = messageNaming(plan);

  return {
    describe: () => describePostgresSource(database, plan, options.table !== undefined, what),
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const types = await orderColumnTypes(database, plan, what);
      const start = plan.incremental ? await loadCheckpoint(plan, ctx) : undefined;
      const ledger = new PositionLedger<ReadPosition>(start, async (position) => {
        if (plan.incremental && position !== undefined) await ctx.checkpoints.set({ columns: plan.order, values: position } satisfies PostgresCursorCheckpoint);
      });
      const pages = new KeysetPages(database, { plan, types, batchSize, pageSize: pageSizeFor(batchSize) });

      while (!signal.aborted) {
        const position = ledger.reading;
        let lines: string[];
        let positions: string[][];
        let columns: PageColumns | undefined;
        try {
          ({ lines, positions, columns } = await pages.read(position));
        } catch (error) {
          throw postgresFailure(error, `${what}: read failed`);
        }
        if (lines.length === 0 || columns === undefined) {
          if (!ctx.follow) return;
          if (!plan.incremental) {
            ctx.logger.warn({ table: plan.label }, "postgres source in full_refresh mode read the whole table once; set cursor and mode: incremental to follow changes");
            return;
          }
          if (!(await pause(pollMs, signal))) return;
          continue;
        }
        const messages = new Array<Message>(lines.length);
        for (let at = 0; at < lines.length; at++) messages[at] = toMessage(plan, naming, columns, lines[at] as string, positions[at] as string[]);
        const last = (messages[messages.length - 1] as Message).position as ReadPosition;
        const settle = ledger.advance(last);
        const checkpoint = plan.incremental && last !== undefined ? ({ columns: plan.order, values: last } satisfies PostgresCursorCheckpoint) : undefined;
        yield { messages, ack: settle.ack, nack: async () => settle.nack(), ...(checkpoint ? { checkpoint } : {}) };
      }
    },
  };
}

/** SQL types of the order columns, read once; also where a wrong table, query or column name is reported. */
async function orderColumnTypes(database: PostgresDatabase, plan: SourcePlan, what: string): Promise<string[]> {
  let row: Row | undefined;
  try {
    row = (await database.query(probeSql(plan))).rows[0];
  } catch (error) {
    const failure = postgresFailure(error, `${what}: checking table, key and cursor columns`);
    if (failure.kind !== "permanent") throw failure;
    throw configError(`${failure.message}; check table, query, key and cursor`, { code: "config.postgres_source", cause: error });
  }
  const types = plan.order.map((column) => String(row?.[column]));
  if (plan.lagMs !== undefined && !TIME_TYPES.has(types[0] as string)) {
    throw configError(`${what}: lag needs the first cursor column (${plan.cursor[0]}) to be a timestamp or date, but it is ${types[0]}; remove lag or put the timestamp column first in cursor`, {
      code: "config.postgres_source",
    });
  }
  return types;
}

async function loadCheckpoint(plan: SourcePlan, ctx: SourceContext): Promise<ReadPosition> {
  const stored = await ctx.checkpoints.get();
  if (stored === undefined || stored === null) return undefined;
  const { columns, values } = stored as Partial<PostgresCursorCheckpoint>;
  if (
    Array.isArray(columns) &&
    Array.isArray(values) &&
    values.every((value) => typeof value === "string") &&
    columns.length === plan.order.length &&
    columns.every((column, index) => column === plan.order[index])
  ) {
    return values;
  }
  ctx.logger.warn(
    { checkpoint: stored, expected: plan.order },
    "postgres source: the checkpoint does not match the cursor and key columns (changed config?); reading from the beginning",
  );
  return undefined;
}

/**
 * A row's message. Its payload is decoded from the COPY line only when something reads
 * it; a PostgreSQL target that takes the line as it is never does (see verbatim-rows.ts).
 */
function toMessage(plan: SourcePlan, naming: MessageNaming, columns: PageColumns, line: string, position: string[]): Message<Row> {
  const key = naming.key(position);
  const id = naming.id(key, position);
  const verbatim: VerbatimRow = { format: POSTGRES_COPY_TEXT, columns: columns.verbatim, text: line };
  const message = createVerbatimMessage({ id, key, headers: {}, metadata: { table: plan.label }, correlationId: id, position }, verbatim, () => columns.parser.parse(line));
  // Soft deletes need the row's flag, and so its payload.
  return plan.softDelete === undefined ? message : applySoftDelete(message, message.payload, plan.softDelete);
}
