import type { Logger } from "pino";
import type { Batch, Sink, Source, WriteOptions } from "../connectors/types.js";
import { configError, errorKind, isAbortError } from "../core/errors.js";
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
import { FailureSettler } from "./failure-settler.js";
import { RunAbortedError } from "./fatal-error.js";
import { MessageRouter } from "./message-router.js";
import { RunProgress } from "./run-progress.js";
import type { ProgressSnapshot } from "./run-progress.js";
import { SizeEstimator } from "./size-estimator.js";
import type { TargetLane, TargetLaneContext } from "./target-lane.js";
import { openTargetLanes } from "./target-lanes.js";
import type { TargetSink } from "./target-lanes.js";
import type { WorkItem } from "./work-item.js";

export type { TargetSink } from "./target-lanes.js";

type TransformResult = { message: Message | null } | { error: unknown };

export interface RunnerDeps {
  integration: IntegrationConfig;
  source: Source;
  /** The sinks of `integration.targets`, in that order. */
  targets?: readonly TargetSink[];
  /** Instead of `targets` for an integration with one target: its sink … */
  sink?: Sink;
  /** … and the policies around each of its writes. */
  call?: Policy;
  transforms: Transform[];
  state: StateStore;
  logger: Logger;
  metrics: JunctionMetrics;
  redactor: SecretRedactor;
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
 * is room), runs the transforms, routes each message to its targets, groups messages into
 * sink batches per target by count, bytes and period, writes them with bounded concurrency
 * and retries, dead-letters what fails, and acknowledges source batches in order once all
 * their messages are settled at every target they went to.
 */
export class IntegrationRunner {
  readonly #deps: RunnerDeps;
  readonly #name: string;
  readonly #log: Logger;
  readonly #sizes = new SizeEstimator();
  readonly #writes = new Set<Promise<void>>();
  readonly #targets: readonly TargetSink[];
  /** Absent for a `target:`: every message goes to the one lane. */
  readonly #router: MessageRouter | undefined;
  #lanes: TargetLane[] = [];
  /** The lane every message goes to, when there is no routing to do. */
  #only: TargetLane | undefined;
  #fatal: unknown;
  #sequencer!: AckSequencer;
  #progress!: RunProgress;
  #started = false;
  #failures!: FailureSettler;
  #signals!: RunOptions;
  readonly #m;
  /** Some step waits on I/O per message (a call): a batch's messages go through the steps several at a time. */
  readonly #concurrentTransforms: boolean;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#name = deps.integration.name;
    this.#log = deps.logger.child({ integration: this.#name });
    this.#concurrentTransforms = deps.transforms.some((transform) => transform.concurrent === true);
    this.#targets = deps.targets ?? (deps.sink ? [{ sink: deps.sink, ...(deps.call ? { call: deps.call } : {}) }] : []);
    if (this.#targets.length !== deps.integration.targets.length || this.#targets.length === 0) {
      throw configError(`integration "${this.#name}" has ${deps.integration.targets.length} target(s) but was given ${this.#targets.length} sink(s)`);
    }
    const [first, ...others] = deps.integration.targets;
    const unconditional = others.length === 0 && first?.when === undefined;
    this.#router = unconditional ? undefined : new MessageRouter(deps.integration.targets, deps.integration.routing);
    const integration = this.#name;
    const counter = deps.metrics.messagesTotal;
    this.#m = {
      read: counter.labels({ integration, stage: "source", outcome: "ok" }),
      transformed: counter.labels({ integration, stage: "transform", outcome: "ok" }),
      filtered: counter.labels({ integration, stage: "transform", outcome: "filtered" }),
      transformFailed: counter.labels({ integration, stage: "transform", outcome: "failed" }),
      unrouted: counter.labels({ integration, stage: "route", outcome: "filtered" }),
      routeFailed: counter.labels({ integration, stage: "route", outcome: "failed" }),
      requeued: counter.labels({ integration, stage: "source", outcome: "requeued" }),
      batchSize: deps.metrics.batchSize.labels({ integration }),
      inFlight: deps.metrics.inFlight.labels({ integration }),
    };
  }

  /** Counts of the run in progress (undefined before it starts). */
  progress(): ProgressSnapshot | undefined {
    return this.#started ? this.#progress.snapshot(this.#name) : undefined;
  }

  async run(options: RunOptions): Promise<RunSummary> {
    const { state } = this.#deps;
    this.#signals = options;
    this.#fatal = undefined;
    const run = await state.startRun({ integration: this.#name, trigger: options.trigger });
    this.#progress = new RunProgress(state, run.id);
    this.#started = true;
    this.#sequencer = new AckSequencer((error) => this.#fail(new RunAbortedError(`acknowledging a source batch failed: ${String(error)}`, error)));
    const deadLetters = new DeadLetterRecorder(state, this.#name, this.#log, this.#deps.redactor, this.#deps.metrics);
    this.#failures = new FailureSettler(deadLetters, this.#deps.redactor, this.#log, this.#m.requeued);
    this.#lanes = this.#openLanes(options);
    this.#only = this.#router === undefined ? this.#lanes[0] : undefined;

    this.#log.info({ run_id: run.id, trigger: options.trigger }, "run started");
    let sourceError: unknown;
    try {
      await this.#start(options.stop);
      await this.#pump(options.stop);
    } catch (error) {
      if (!(isAbortError(error) && options.stop.aborted)) sourceError = error;
    }
    if (this.#fatal === undefined && sourceError === undefined) this.#flushAll();
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

  /** One lane per target; only a single target is offered the checkpoint (see WriteOptions). */
  #openLanes(signals: RunOptions): TargetLane[] {
    const single = this.#targets.length === 1;
    const context: TargetLaneContext = {
      writes: this.#writes,
      batching: this.#deps.integration.batching,
      signals,
      stopped: () => this.#fatal !== undefined,
      fail: (error) => this.#fail(error),
      batchSize: this.#m.batchSize,
      inFlight: this.#m.inFlight,
      ...(single ? { checkpointOffer: (items: readonly WorkItem[]) => this.#checkpointOffer(items) } : {}),
    };
    const onWriteObserved = this.#deps.onWriteObserved;
    return openTargetLanes({
      integration: this.#deps.integration,
      sinks: this.#targets,
      context,
      metrics: this.#deps.metrics,
      log: this.#log,
      outcomes: {
        written: (item) => this.#settleWritten(item),
        failed: (item, stage, error, attempts, viaBroker) => this.#settleFailed(item, stage, error, attempts, viaBroker),
        retrying: (count) => {
          this.#progress.counts.retried += count;
        },
        ...(onWriteObserved ? { observed: onWriteObserved } : {}),
      },
    });
  }

  /** Lets the source describe itself and every sink prepare (create or check its table, open a staging table). */
  async #start(stop: AbortSignal): Promise<void> {
    const description = (await this.#deps.source.describe?.(stop)) ?? {};
    if (description.estimatedCount !== undefined) this.#progress.estimatedCount = description.estimatedCount;
    const schema = this.#keepsShape() ? description.schema : undefined;
    for (const lane of this.#lanes) await lane.sink.begin?.(schema ? { schema } : {}, this.#signals.abort);
  }

  /**
   * Whether the payloads reaching the sink still have the source's columns: a map, select,
   * rename or set reshapes them, and the source's schema would then describe the wrong table.
   */
  #keepsShape(): boolean {
    return this.#deps.integration.transforms.every((step) => SHAPE_PRESERVING_TRANSFORMS.has(step.type));
  }

  /** The run ended cleanly: the sinks may finish their work (a replace target swaps its table in). */
  async #complete(abort: AbortSignal): Promise<void> {
    for (const lane of this.#lanes) {
      try {
        await lane.sink.complete?.(abort);
      } catch (error) {
        this.#fail(error);
        return;
      }
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

  /** Waits for the next batch, flushing partial sink batches whose period ends first. */
  async #nextOrFlush(next: Promise<IteratorResult<Batch>>): Promise<IteratorResult<Batch> | typeof FLUSH> {
    const remaining = this.#dueIn(performance.now());
    if (remaining === Number.POSITIVE_INFINITY) return next;
    if (remaining <= 0) {
      this.#flushDue(0);
      return FLUSH;
    }
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<typeof FLUSH>((resolve) => {
      timer = setTimeout(() => resolve(FLUSH), remaining);
    });
    try {
      const result = await Promise.race([next, elapsed]);
      // Timers round to whole milliseconds and may fire a fraction early.
      if (result === FLUSH) this.#flushDue(1);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Milliseconds until the first pending sink batch is due (Infinity when none is pending). */
  #dueIn(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const lane of this.#lanes) soonest = Math.min(soonest, lane.dueIn(now));
    return soonest;
  }

  #flushDue(toleranceMs: number): void {
    const now = performance.now();
    for (const lane of this.#lanes) if (lane.dueIn(now) <= toleranceMs) lane.flush();
  }

  #flushAll(): void {
    for (const lane of this.#lanes) lane.flush();
  }

  /**
   * Backpressure: bounded sink writes in flight per target, and bounded unacknowledged source
   * batches in total (a target that keeps failing holds the others back only once these fill).
   */
  async #waitForRoom(): Promise<void> {
    const concurrency = this.#deps.integration.concurrency;
    const maxUnacked = concurrency * 4 + 4;
    while (this.#fatal === undefined && (this.#laneFull(concurrency) || this.#sequencer.unacked >= maxUnacked)) {
      if (this.#writes.size === 0) {
        await this.#sequencer.idle();
        if (this.#sequencer.unacked >= maxUnacked) this.#flushAll();
        if (this.#writes.size === 0) return;
      }
      await Promise.race(this.#writes);
    }
  }

  #laneFull(concurrency: number): boolean {
    for (const lane of this.#lanes) if (lane.inFlight >= concurrency) return true;
    return false;
  }

  async #ingest(batch: Batch): Promise<void> {
    const { transforms } = this.#deps;
    const tracked = this.#sequencer.track(batch);
    const count = batch.messages.length;
    this.#progress.counts.read += count;
    this.#m.read.inc(count);
    const only = this.#only;
    let transformed = 0;
    const invalid = batch.invalid;
    const abort = this.#signals.abort;
    const precomputed = this.#concurrentTransforms ? await this.#transformConcurrently(batch.messages, invalid) : undefined;
    for (const [index, original] of batch.messages.entries()) {
      const undecodable = invalid?.get(original);
      if (undecodable !== undefined) {
        await this.#settleFailed({ original, message: original, owner: tracked }, "source", undecodable, original.attempt);
        if (this.#fatal !== undefined) return;
        continue;
      }
      let message: Message | null;
      try {
        const result = precomputed?.[index];
        if (result !== undefined && "error" in result) throw result.error;
        message = result !== undefined ? result.message : transforms.length === 0 ? original : await applyTransforms(transforms, original, abort);
      } catch (error) {
        // Cancelled mid-call: the message stays unsettled, so its batch is delivered again.
        if (isAbortError(error) && abort.aborted) return;
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
      const item: WorkItem = { original, message, owner: tracked };
      if (only !== undefined) {
        only.add(item, this.#sizes.estimate(message));
        continue;
      }
      await this.#route(item);
      if (this.#fatal !== undefined) return;
    }
    if (transformed > 0) this.#m.transformed.inc(transformed);
    await this.#progress.maybeFlush();
  }

  /**
   * The transforms of a batch's messages with up to `concurrency` messages in them at once,
   * for steps that wait on I/O (calls); results in message order, so routing keeps the order.
   */
  async #transformConcurrently(messages: readonly Message[], invalid: ReadonlyMap<Message, Error> | undefined): Promise<TransformResult[]> {
    const { transforms, integration } = this.#deps;
    const abort = this.#signals.abort;
    const results: TransformResult[] = new Array<TransformResult>(messages.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const index = next++;
        const message = messages[index] as Message;
        if (invalid?.has(message)) continue;
        try {
          results[index] = { message: await applyTransforms(transforms, message, abort) };
        } catch (error) {
          results[index] = { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, integration.concurrency), messages.length) }, worker));
    return results;
  }

  /** Hands a transformed message to the lanes of the targets it goes to; with none, it is settled as filtered. */
  async #route(item: WorkItem): Promise<void> {
    let chosen: readonly number[];
    try {
      chosen = await (this.#router as MessageRouter).route(item.message);
    } catch (error) {
      this.#m.routeFailed.inc();
      await this.#settleFailed(item, "route", error, item.original.attempt);
      return;
    }
    if (chosen.length === 0) {
      this.#progress.counts.filtered++;
      this.#m.unrouted.inc();
      this.#sequencer.settle(item.owner);
      return;
    }
    if (chosen.length > 1) this.#sequencer.expectMore(item.owner, chosen.length - 1);
    const bytes = this.#sizes.estimate(item.message);
    for (const index of chosen) (this.#lanes[index] as TargetLane).add(item, bytes);
  }

  /** The checkpoint a target in the state database may commit with this write (see WriteOptions). */
  #checkpointOffer(items: readonly WorkItem[]): WriteOptions | undefined {
    const completed = this.#sequencer.completedBy(items.map((item) => item.owner));
    const value = completed?.batch.checkpoint;
    return value === undefined ? undefined : { checkpoint: { scope: this.#name, value } };
  }

  async #closeEnds(): Promise<void> {
    for (const end of [this.#deps.source, ...this.#lanes.map((lane) => lane.sink)]) {
      try {
        await end.close?.();
      } catch (error) {
        this.#log.warn({ err: error }, "closing a source or sink failed");
      }
    }
  }

  async #drainWrites(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  #settleWritten(item: WorkItem): void {
    this.#progress.counts.written++;
    this.#sequencer.settle(item.owner);
  }

  /** `viaBroker`: whether the source's broker may take the message back (false when other targets have it). */
  async #settleFailed(item: WorkItem, stage: string, error: unknown, attempts: number, viaBroker = true): Promise<void> {
    if (this.#deps.integration.onError === "fail") {
      this.#fail(new RunAbortedError(`${stage} failed and on_error is "fail": ${String((error as Error)?.message ?? error)}`, error));
      return;
    }
    try {
      const outcome = await this.#failures.settle(item.original, item.owner.batch.settlement, stage, error, attempts, viaBroker);
      if (outcome === "requeued") this.#progress.counts.retried++;
      else this.#progress.counts.deadLettered++;
    } catch (storeError) {
      this.#fail(new RunAbortedError(`could not dead-letter a failed message, stopping so nothing is lost: ${String((storeError as Error)?.message ?? storeError)}`, storeError));
      return;
    }
    this.#sequencer.settle(item.owner);
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
