import type { Logger } from "pino";
import type { Batch, MessageFailureReport, MessageSettlement, Sink, Source, WriteOptions } from "../connectors/types.js";
import { errorKind, errorMessage, isAbortError } from "../core/errors.js";
import type { ErrorKind } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { SecretRedactor } from "../core/redact.js";
import type { IntegrationConfig } from "../config/model.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import type { RunRecord, RunStatus, StateStore } from "../state/types.js";
import type { Policy } from "../resilience/policy.js";
import type { Transform } from "../transform/types.js";
import { applyTransforms } from "../transform/pipeline.js";
import { AckSequencer } from "./ack-sequencer.js";
import { DeadLetterRecorder } from "./dead-letter-recorder.js";
import { RunAbortedError } from "./fatal-error.js";
import { KeyOrderGuard } from "./key-order-guard.js";
import { RunProgress } from "./run-progress.js";
import type { ProgressSnapshot } from "./run-progress.js";
import { SinkWriter } from "./sink-writer.js";
import { SizeEstimator } from "./size-estimator.js";
import type { WorkItem } from "./work-item.js";

export interface RunnerDeps {
  integration: IntegrationConfig;
  source: Source;
  sink: Sink;
  transforms: Transform[];
  state: StateStore;
  logger: Logger;
  metrics: JunctionMetrics;
  redactor: SecretRedactor;
  /** Policies around each sink write (circuit breaker, rate limit, bulkhead, timeout); none by default. */
  call?: Policy;
  /** Called after every sink write with its outcome, for alert windows. */
  onWriteObserved?: (seconds: number, size: number, failures: number) => void;
}

export interface RunOptions {
  /** Label stored in run history: "once", "continuous", "schedule", "replay". */
  trigger: string;
  /** Graceful stop: no new batches are pulled, in-flight work drains. */
  stop: AbortSignal;
  /** Hard stop: writes in progress are cancelled. */
  abort: AbortSignal;
}

export interface RunSummary {
  run: RunRecord;
  status: RunStatus;
  error?: string;
  /** Kind of the error that stopped a failed run: a transient one is worth running again. */
  errorKind?: ErrorKind;
}

const FLUSH = Symbol("flush");

/** Transforms that drop or check messages without changing their fields. */
const SHAPE_PRESERVING_TRANSFORMS: ReadonlySet<string> = new Set(["filter", "validate"]);

/**
 * Executes one integration: pulls batches from the source (backpressure: only when there
 * is room), runs the transforms, groups messages into sink batches by count, bytes and
 * period, writes them with bounded concurrency and retries, dead-letters what fails, and
 * acknowledges source batches in order once all their messages are settled.
 */
export class IntegrationRunner {
  readonly #deps: RunnerDeps;
  readonly #name: string;
  readonly #log: Logger;
  readonly #sizes = new SizeEstimator();
  readonly #keys = new KeyOrderGuard();
  readonly #inFlight = new Set<Promise<void>>();
  #buffer: WorkItem[] = [];
  #bufferBytes = 0;
  #bufferSince = 0;
  #fatal: unknown;
  #sequencer!: AckSequencer;
  #progress!: RunProgress;
  #started = false;
  #writer!: SinkWriter;
  #deadLetters!: DeadLetterRecorder;
  #signals!: RunOptions;
  readonly #m;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#name = deps.integration.name;
    this.#log = deps.logger.child({ integration: this.#name });
    const integration = this.#name;
    const counter = deps.metrics.messagesTotal;
    this.#m = {
      read: counter.labels({ integration, stage: "source", outcome: "ok" }),
      transformed: counter.labels({ integration, stage: "transform", outcome: "ok" }),
      filtered: counter.labels({ integration, stage: "transform", outcome: "filtered" }),
      transformFailed: counter.labels({ integration, stage: "transform", outcome: "failed" }),
      written: counter.labels({ integration, stage: "sink", outcome: "ok" }),
      sinkFailed: counter.labels({ integration, stage: "sink", outcome: "failed" }),
      retried: counter.labels({ integration, stage: "sink", outcome: "retried" }),
      requeued: counter.labels({ integration, stage: "source", outcome: "requeued" }),
      retries: deps.metrics.retriesTotal.labels({ integration, stage: "sink" }),
      sinkDuration: deps.metrics.stageDuration.labels({ integration, stage: "sink" }),
      batchSize: deps.metrics.batchSize.labels({ integration }),
      inFlight: deps.metrics.inFlight.labels({ integration }),
    };
  }

  /** Counts of the run in progress (undefined before it starts). */
  progress(): ProgressSnapshot | undefined {
    return this.#started ? this.#progress.snapshot(this.#name) : undefined;
  }

  async run(options: RunOptions): Promise<RunSummary> {
    const { state, integration } = this.#deps;
    this.#signals = options;
    this.#fatal = undefined;
    const run = await state.startRun({ integration: this.#name, trigger: options.trigger });
    this.#progress = new RunProgress(state, run.id);
    this.#started = true;
    this.#sequencer = new AckSequencer((error) => this.#fail(new RunAbortedError(`acknowledging a source batch failed: ${String(error)}`, error)));
    this.#deadLetters = new DeadLetterRecorder(state, this.#name, this.#log, this.#deps.redactor, this.#deps.metrics);
    this.#writer = new SinkWriter(this.#deps.sink, integration.resilience.retry, {
      written: (item) => this.#settleWritten(item),
      writtenCount: (count) => this.#m.written.inc(count),
      failed: (item, error, attempts) => this.#settleFailed(item, "sink", error, attempts),
      retrying: (count, delayMs, attempt) => {
        this.#progress.counts.retried += count;
        this.#m.retried.inc(count);
        this.#m.retries.inc(count);
        this.#log.debug({ count, delay_ms: Math.round(delayMs), attempt }, "retrying failed messages");
      },
      observed: (seconds, size, failures) => {
        this.#m.sinkDuration.observe(seconds);
        if (failures > 0) this.#m.sinkFailed.inc(failures);
        this.#deps.onWriteObserved?.(seconds, size, failures);
      },
    }, this.#deps.call);

    this.#log.info({ run_id: run.id, trigger: options.trigger }, "run started");
    let sourceError: unknown;
    try {
      await this.#start(options.stop);
      await this.#pump(options.stop);
    } catch (error) {
      if (!(isAbortError(error) && options.stop.aborted)) sourceError = error;
    }
    if (this.#fatal === undefined && sourceError === undefined) this.#flush();
    await this.#drainWrites();
    await this.#sequencer.idle();
    const unsettled = this.#sequencer.unacked;
    if (unsettled > 0) {
      await this.#sequencer.nackRemaining(new Error(this.#fatal ? "run failed" : "shutting down"));
    }
    if (sourceError !== undefined) this.#fail(sourceError);
    if (this.#fatal === undefined && unsettled === 0 && !options.stop.aborted) await this.#complete(options.abort);
    await this.#closeEnds();
    return this.#finish(run, options, unsettled);
  }

  /** Lets the source describe itself and the sink prepare (create or check its table, open a staging table). */
  async #start(stop: AbortSignal): Promise<void> {
    const { source, sink } = this.#deps;
    const description = (await source.describe?.(stop)) ?? {};
    if (description.estimatedCount !== undefined) this.#progress.estimatedCount = description.estimatedCount;
    const schema = this.#keepsShape() ? description.schema : undefined;
    await sink.begin?.(schema ? { schema } : {}, this.#signals.abort);
  }

  /**
   * Whether the payloads reaching the sink still have the source's columns: a map, select,
   * rename or set reshapes them, and the source's schema would then describe the wrong table.
   */
  #keepsShape(): boolean {
    return this.#deps.integration.transforms.every((step) => SHAPE_PRESERVING_TRANSFORMS.has(step.type));
  }

  /** The run ended cleanly: the sink may finish its work (a replace target swaps its table in). */
  async #complete(abort: AbortSignal): Promise<void> {
    try {
      await this.#deps.sink.complete?.(abort);
    } catch (error) {
      this.#fail(error);
    }
  }

  async #pump(stop: AbortSignal): Promise<void> {
    const iterator = this.#deps.source.batches(stop)[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<Batch>> | undefined;
    try {
      while (!stop.aborted && this.#fatal === undefined) {
        await this.#waitForRoom();
        if (stop.aborted || this.#fatal !== undefined) break;
        next ??= iterator.next();
        const result = await this.#nextOrFlush(next);
        if (result === FLUSH) continue;
        next = undefined;
        if (result.done) break;
        await this.#ingest(result.value);
      }
    } finally {
      if (next === undefined) await iterator.return?.();
      else void next.then(() => iterator.return?.(), () => undefined);
    }
  }

  /** Waits for the next batch, flushing a partial sink batch when its period ends first. */
  async #nextOrFlush(next: Promise<IteratorResult<Batch>>): Promise<IteratorResult<Batch> | typeof FLUSH> {
    if (this.#buffer.length === 0) return next;
    const remaining = this.#deps.integration.batching.periodMs - (performance.now() - this.#bufferSince);
    if (remaining <= 0) {
      this.#flush();
      return FLUSH;
    }
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<typeof FLUSH>((resolve) => {
      timer = setTimeout(() => resolve(FLUSH), remaining);
    });
    try {
      const result = await Promise.race([next, elapsed]);
      if (result === FLUSH) this.#flush();
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Backpressure: bounded sink writes in flight and bounded unacknowledged source batches. */
  async #waitForRoom(): Promise<void> {
    const concurrency = this.#deps.integration.concurrency;
    const maxUnacked = concurrency * 4 + 4;
    while (this.#fatal === undefined && (this.#inFlight.size >= concurrency || this.#sequencer.unacked >= maxUnacked)) {
      if (this.#inFlight.size === 0) {
        await this.#sequencer.idle();
        if (this.#sequencer.unacked >= maxUnacked) this.#flush();
        if (this.#inFlight.size === 0) return;
      }
      await Promise.race(this.#inFlight);
    }
  }

  async #ingest(batch: Batch): Promise<void> {
    const { transforms, integration } = this.#deps;
    const tracked = this.#sequencer.track(batch);
    const count = batch.messages.length;
    this.#progress.counts.read += count;
    this.#m.read.inc(count);
    const maxCount = integration.batching.count;
    const maxBytes = integration.batching.bytes;
    let transformed = 0;
    const invalid = batch.invalid;
    for (const original of batch.messages) {
      const undecodable = invalid?.get(original);
      if (undecodable !== undefined) {
        await this.#settleFailed({ original, message: original, owner: tracked }, "source", undecodable, original.attempt);
        if (this.#fatal !== undefined) return;
        continue;
      }
      let message: Message | null;
      try {
        message = transforms.length === 0 ? original : await applyTransforms(transforms, original);
      } catch (error) {
        this.#m.transformFailed.inc();
        await this.#settleFailed({ original, message: original, owner: tracked }, "transform", error, original.attempt);
        if (this.#fatal !== undefined) return;
        continue;
      }
      if (message === null) {
        this.#progress.counts.filtered++;
        this.#m.filtered.inc();
        this.#sequencer.settle(tracked);
        continue;
      }
      transformed++;
      if (this.#buffer.length === 0) this.#bufferSince = performance.now();
      this.#buffer.push({ original, message, owner: tracked });
      this.#bufferBytes += this.#sizes.estimate(message);
      if (this.#buffer.length >= maxCount || this.#bufferBytes >= maxBytes) this.#flush();
    }
    if (transformed > 0) this.#m.transformed.inc(transformed);
    await this.#progress.maybeFlush();
  }

  #flush(): void {
    if (this.#buffer.length === 0) return;
    const items = this.#buffer;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#m.batchSize.observe(items.length);
    this.#m.inFlight.inc(items.length);
    const keys = items.map((item) => item.message.key);
    const conflicts = this.#keys.conflicts(keys);
    const write = (conflicts.length === 0 ? this.#write(items) : Promise.allSettled(conflicts).then(() => this.#write(items))).finally(() => {
      this.#inFlight.delete(write);
      this.#m.inFlight.dec(items.length);
    });
    this.#keys.hold(keys, write);
    this.#inFlight.add(write);
  }

  async #write(items: WorkItem[]): Promise<void> {
    if (this.#fatal !== undefined) return;
    try {
      await this.#writer.write(items, this.#signals, this.#checkpointOffer(items));
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The checkpoint a target in the state database may commit with this write (see WriteOptions). */
  #checkpointOffer(items: readonly WorkItem[]): WriteOptions | undefined {
    const completed = this.#sequencer.completedBy(items.map((item) => item.owner));
    const value = completed?.batch.checkpoint;
    return value === undefined ? undefined : { checkpoint: { scope: this.#name, value } };
  }

  async #closeEnds(): Promise<void> {
    for (const end of [this.#deps.source, this.#deps.sink]) {
      try {
        await end.close?.();
      } catch (error) {
        this.#log.warn({ err: error }, "closing a source or sink failed");
      }
    }
  }

  async #drainWrites(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #settleWritten(item: WorkItem): void {
    this.#progress.counts.written++;
    this.#sequencer.settle(item.owner);
  }

  async #settleFailed(item: WorkItem, stage: string, error: unknown, attempts: number): Promise<void> {
    if (this.#deps.integration.onError === "fail") {
      this.#fail(new RunAbortedError(`${stage} failed and on_error is "fail": ${String((error as Error)?.message ?? error)}`, error));
      return;
    }
    const settlement = item.owner.batch.settlement;
    try {
      if (settlement === undefined) {
        await this.#deadLetters.record(item.original, stage, error, attempts);
      } else if (await this.#settleWithBroker(settlement, item.original, stage, error, attempts)) {
        this.#progress.counts.retried++;
        this.#sequencer.settle(item.owner);
        return;
      }
    } catch (storeError) {
      this.#fail(new RunAbortedError(`could not dead-letter a failed message, stopping so nothing is lost: ${String((storeError as Error)?.message ?? storeError)}`, storeError));
      return;
    }
    this.#progress.counts.deadLettered++;
    this.#sequencer.settle(item.owner);
  }

  /**
   * A failed message of a broker source: handed back for a later delivery when it failed
   * transiently and the broker can take it (returns true), else dead-lettered in the broker
   * or in the state store (returns false).
   */
  async #settleWithBroker(settlement: MessageSettlement, original: Message, stage: string, error: unknown, attempts: number): Promise<boolean> {
    const report: MessageFailureReport = {
      error: this.#deps.redactor.redact(errorMessage(error)),
      kind: errorKind(error),
      stage,
      attempts: Math.max(attempts, original.attempt),
    };
    if (report.kind === "transient" && settlement.requeue !== undefined) {
      if ((await settlement.requeue(original, report)) === "requeued") {
        this.#m.requeued.inc();
        this.#log.warn({ correlation_id: original.correlationId, message_id: original.id, stage, attempts: report.attempts, error: report.error }, `message handed back to the broker for a later delivery: ${report.error}`);
        return true;
      }
    }
    if (settlement.deadLetter !== undefined) {
      await settlement.deadLetter(original, report);
      this.#deadLetters.counted(original, stage, report.error, report.attempts, "broker");
      return false;
    }
    await this.#deadLetters.record(original, stage, error, report.attempts);
    await settlement.discard?.(original);
    return false;
  }

  #fail(error: unknown): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = error;
    this.#log.error({ err: error }, `run stopped: ${this.#deps.redactor.redact(String((error as Error)?.message ?? error))}`);
  }

  async #finish(run: RunRecord, options: RunOptions, unsettled: number): Promise<RunSummary> {
    const counts = { ...this.#progress.counts };
    let status: Exclude<RunStatus, "running">;
    let error: string | undefined;
    let kind: ErrorKind | undefined;
    if (this.#fatal !== undefined) {
      kind = errorKind(this.#fatal);
      status = "failed";
      error = this.#deps.redactor.redact(String((this.#fatal as Error)?.message ?? this.#fatal));
    } else if (options.stop.aborted && (unsettled > 0 || options.trigger !== "continuous")) {
      status = "interrupted";
    } else if (counts.deadLettered > 0) {
      status = "partial";
    } else {
      status = "succeeded";
    }
    await this.#deps.state.finishRun(run.id, { status, counts, ...(error ? { error } : {}) });
    this.#deps.metrics.runsTotal.inc({ integration: this.#name, status });
    const record = (await this.#deps.state.getRun(run.id)) ?? { ...run, status, counts };
    this.#log.info({ run_id: run.id, status, ...counts }, `run ${status}: read ${counts.read}, written ${counts.written}, filtered ${counts.filtered}, dead-lettered ${counts.deadLettered}`);
    return { run: record, status, ...(error ? { error } : {}), ...(kind ? { errorKind: kind } : {}) };
  }
}
