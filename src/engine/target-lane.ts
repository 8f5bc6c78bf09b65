import type { Sink, WriteOptions } from "../connectors/types.js";
import type { BatchingConfig } from "../config/model.js";
import { KeyOrderGuard } from "./key-order-guard.js";
import type { SinkWriter, WriteSignals } from "./sink-writer.js";
import type { WorkItem } from "./work-item.js";

/** What a lane shares with the run it belongs to. */
export interface TargetLaneContext {
  /** The sink writes in flight of every lane of the run: backpressure waits on them, the end of the run drains them. */
  readonly writes: Set<Promise<void>>;
  readonly batching: BatchingConfig;
  readonly signals: WriteSignals;
  /** true once the run has failed: queued writes are not started. */
  stopped(): boolean;
  fail(error: unknown): void;
  /** Only for a run with one target: the checkpoint it may commit with a write (see WriteOptions). */
  checkpointOffer?: (items: readonly WorkItem[]) => WriteOptions | undefined;
  readonly batchSize: { observe(value: number): void };
  readonly inFlight: { inc(value: number): void; dec(value: number): void };
}

/**
 * One target of a run: its sink batch (flushed by count, bytes or period), its writes in
 * flight with retries, and per-key ordering: two versions of a key never go to this
 * target's sink at the same time, whatever the other targets do.
 */
export class TargetLane {
  readonly #keys = new KeyOrderGuard();
  #buffer: WorkItem[] = [];
  #bytes = 0;
  #since = 0;
  #inFlight = 0;

  /**
   * @param name the target's name (logs)
   * @param stage "sink" for a `target:`, "sink:<name>" with several: dead letters and metric labels
   */
  constructor(
    readonly name: string,
    readonly stage: string,
    readonly sink: Sink,
    private readonly writer: SinkWriter,
    private readonly context: TargetLaneContext,
  ) {}

  /** Sink writes of this target in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Milliseconds until the pending sink batch's period ends (negative once due); Infinity when nothing is pending. */
  dueIn(now: number): number {
    return this.#buffer.length === 0 ? Number.POSITIVE_INFINITY : this.context.batching.periodMs - (now - this.#since);
  }

  add(item: WorkItem, bytes: number): void {
    const buffer = this.#buffer;
    if (buffer.length === 0) this.#since = performance.now();
    buffer.push(item);
    this.#bytes += bytes;
    const batching = this.context.batching;
    if (buffer.length >= batching.count || this.#bytes >= batching.bytes) this.flush();
  }

  /** Starts writing the pending sink batch, after the writes in flight that hold any of its keys. */
  flush(): void {
    if (this.#buffer.length === 0) return;
    const items = this.#buffer;
    this.#buffer = [];
    this.#bytes = 0;
    const context = this.context;
    context.batchSize.observe(items.length);
    context.inFlight.inc(items.length);
    this.#inFlight++;
    const keys = items.map((item) => item.message.key);
    const conflicts = this.#keys.conflicts(keys);
    const write = (conflicts.length === 0 ? this.#write(items) : Promise.allSettled(conflicts).then(() => this.#write(items))).finally(() => {
      context.writes.delete(write);
      this.#inFlight--;
      context.inFlight.dec(items.length);
    });
    this.#keys.hold(keys, write);
    context.writes.add(write);
  }

  async #write(items: WorkItem[]): Promise<void> {
    const context = this.context;
    if (context.stopped()) return;
    try {
      await this.writer.write(items, context.signals, context.checkpointOffer?.(items));
    } catch (error) {
      context.fail(error);
    }
  }
}
