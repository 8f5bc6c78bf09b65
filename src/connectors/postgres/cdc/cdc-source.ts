import type { ClientConfig } from "pg";
import { abortError, pause } from "../../../core/abort.js";
import { configError, transientError } from "../../../core/errors.js";
import { PositionLedger } from "../../shared/position-ledger.js";
import type { Batch, Source, SourceContext, SourceDescription } from "../../types.js";
import type { PostgresDatabase } from "../database.js";
import { describePostgresTable } from "../describe.js";
import { postgresFailure, sqlState } from "../postgres-errors.js";
import type { PostgresSourceOptions } from "../schema.js";
import { toCheckpoint } from "./cdc-checkpoint.js";
import { planCdc } from "./cdc-plan.js";
import type { CdcPlan } from "./cdc-plan.js";
import { ChangeConverter } from "./change-converter.js";
import { ChangeQueue } from "./change-queue.js";
import type { Lsn } from "./lsn.js";
import { currentWalLsn } from "./replication-slot.js";
import { prepareReplication } from "./replication-setup.js";
import { ReplicationStream } from "./replication-stream.js";
import type { ReplicationStreamOptions } from "./replication-stream.js";
import { SlotLagReporter } from "./slot-lag-reporter.js";

const OBJECT_IN_USE = "55006";
/** How long to wait for a slot held by a connection that is going away (a killed predecessor). */
const SLOT_BUSY_WAIT_MS = 15_000;
/** Once triggers: how often to ask the server how far it has sent while waiting to catch up. */
const CATCH_UP_POLL_MS = 200;
/** Longest wait for a batch to fill once a change is there. */
const BATCH_LINGER_MS = 20;

/**
 * `mode: cdc`: the table's inserts, updates and deletes, streamed in commit order from a
 * logical replication slot (pgoutput). A batch's ack stores the end LSN of the last
 * transaction it completes as the checkpoint, then confirms it to the server, so the slot
 * never moves past what the target committed. With a once trigger the source stops at
 * the end of WAL as of its start.
 */
export function createPostgresCdcSource(database: PostgresDatabase, clientConfig: ClientConfig, options: PostgresSourceOptions, ctx: SourceContext): Source {
  const plan = planCdc(options, database.schema, ctx.integration, ctx.batchSize);
  const resources: OpenResources = { closed: false, closers: new Set() };
  return {
    describe: () => describeTable(database, plan),
    batches: (signal) => streamBatches(database, clientConfig, plan, ctx, signal, resources),
    async close() {
      resources.closed = true;
      for (const close of [...resources.closers]) await close();
      resources.closers.clear();
    },
  };
}

/** What close() must end; a stream opened after close() (it was called mid-start) is closed at once. */
interface OpenResources {
  closed: boolean;
  closers: Set<() => Promise<void>>;
}

async function* streamBatches(
  database: PostgresDatabase,
  clientConfig: ClientConfig,
  plan: CdcPlan,
  ctx: SourceContext,
  signal: AbortSignal,
  resources: OpenResources,
): AsyncGenerator<Batch> {
  const logger = ctx.logger;
  const start = await prepareReplication(database, plan, ctx.integration, await ctx.checkpoints.get(), logger);
  const queue = new ChangeQueue(plan.queueCapacity);
  const converter = new ChangeConverter(plan, start.from, logger);
  const stream = await openStream(
    {
      clientConfig,
      slot: plan.slot,
      publication: plan.publication,
      from: start.from,
      heartbeatMs: plan.heartbeatMs,
      logger,
      onMessage: async (message) => {
        const item = converter.convert(message);
        if (item !== undefined) await queue.push(item);
      },
      onKeepalive: (lsn) => {
        const item = converter.keepalive(lsn);
        if (item !== undefined) void queue.push(item);
      },
      onFailure: (error) => queue.fail(postgresFailure(error, `postgres cdc source ${plan.label}: replication stream`)),
    },
    signal,
  );
  const lag = new SlotLagReporter(database, plan.slot, logger);
  const release = async (): Promise<void> => {
    lag.stop();
    queue.close();
    await stream.close();
  };
  if (resources.closed) {
    await release();
    return;
  }
  resources.closers.add(release);
  lag.start();

  let stored = start.from;
  const ledger = new PositionLedger<Lsn>(start.from, async (lsn) => {
    if (lsn <= stored) return;
    // The checkpoint first: a slot ahead of the checkpoint is reported as lost changes.
    await ctx.checkpoints.set(toCheckpoint({ lsn, slot: plan.slot, database: start.database }));
    stored = lsn;
    stream.confirm(lsn);
  });
  const endAt = ctx.follow ? undefined : await currentWalLsn(database);
  let seen = start.from;

  while (!signal.aborted) {
    await queue.wait(endAt === undefined ? plan.heartbeatMs : CATCH_UP_POLL_MS, signal);
    // Changes trickle in one by one: a moment's wait makes a batch of many instead of many batches of one.
    if (queue.size > 0) await queue.waitForChanges(plan.batchSize, BATCH_LINGER_MS, signal);
    if (queue.failure !== undefined) throw queue.failure;
    // Aborted, or closed under a reader that did not stop first.
    if (signal.aborted || queue.closed) return;
    const { messages, position } = queue.take(plan.batchSize);
    if (position !== undefined && position > seen) seen = position;
    const further = position !== undefined && position > ledger.reading;
    if (messages.length > 0 || further) {
      // A batch without messages still moves the position (a commit, or the server's progress while idle).
      const settle = ledger.advance(further ? position : ledger.reading);
      yield { messages, ack: settle.ack, nack: async () => settle.nack() };
    }
    if (endAt !== undefined && queue.size === 0 && !converter.inTransaction) {
      if (seen >= endAt) return;
      stream.requestKeepalive();
    }
  }
}

/** The table's declared columns (payloads of deletes carry only the key columns, or every column under REPLICA IDENTITY FULL). */
async function describeTable(database: PostgresDatabase, plan: CdcPlan): Promise<SourceDescription> {
  try {
    return { schema: await describePostgresTable(database, { schema: plan.schema, table: plan.table }, plan.key, plan.columns === undefined ? undefined : [...plan.columns]) };
  } catch (error) {
    const failure = postgresFailure(error, `postgres cdc source ${plan.label}: describing the columns`);
    if (failure.kind !== "permanent") throw failure;
    throw configError(`${failure.message}; check table and columns`, { code: "config.postgres_source", cause: error });
  }
}

/** Opens the stream; a slot still held by a connection that is going away (e.g. a killed predecessor) is waited for. */
async function openStream(options: ReplicationStreamOptions, signal: AbortSignal): Promise<ReplicationStream> {
  const deadline = Date.now() + SLOT_BUSY_WAIT_MS;
  for (;;) {
    try {
      return await ReplicationStream.open(options, signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      if (sqlState(error) !== OBJECT_IN_USE) throw postgresFailure(error, `postgres cdc source: starting replication from slot ${options.slot}`);
      if (Date.now() >= deadline) {
        throw transientError(
          `postgres cdc source: replication slot ${options.slot} is in use by another connection; is another instance running this integration? (retrying later)`,
          { code: "postgres.slot_in_use", cause: error },
        );
      }
      options.logger.info({ slot: options.slot }, "postgres cdc: the slot is still in use by another connection; waiting for it to be released");
      if (!(await pause(500, signal))) throw abortError(signal);
    }
  }
}
