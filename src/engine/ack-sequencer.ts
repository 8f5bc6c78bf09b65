import type { Batch } from "../connectors/types.js";

/** A source batch whose messages are still being written or dead-lettered. */
export interface TrackedBatch {
  readonly batch: Batch;
  /** Settlements still due: one per message, one per target for a message routed to several. */
  remaining: number;
}

/**
 * Acknowledges source batches strictly in the order the source produced them, each only
 * once every one of its messages is settled (written, filtered or dead-lettered). Acking
 * batch 3 before batch 2 would move a checkpoint past data that a crash would then lose.
 */
export class AckSequencer {
  readonly #queue: TrackedBatch[] = [];
  #chain: Promise<void> = Promise.resolve();
  #ackError: unknown;
  #acked = 0;
  readonly #onAckError: (error: unknown) => void;

  constructor(onAckError: (error: unknown) => void) {
    this.#onAckError = onAckError;
  }

  track(batch: Batch): TrackedBatch {
    const tracked: TrackedBatch = { batch, remaining: batch.messages.length };
    this.#queue.push(tracked);
    if (tracked.remaining === 0) this.#pump();
    return tracked;
  }

  /** `count` more settlements are due for `tracked`: a message routed to several targets is settled once per target. */
  expectMore(tracked: TrackedBatch, count: number): void {
    tracked.remaining += count;
  }

  /** Marks `count` messages of `tracked` as settled. */
  settle(tracked: TrackedBatch, count = 1): void {
    tracked.remaining -= count;
    if (tracked.remaining <= 0 && this.#queue[0] === tracked) this.#pump();
  }

  /**
   * The newest batch that `owners` (the owner of each message of one write) would finish,
   * counting from the oldest unacknowledged batch: when the write succeeds entirely, that
   * batch and all before it are settled. undefined when the write does not finish the oldest.
   */
  completedBy(owners: readonly TrackedBatch[]): TrackedBatch | undefined {
    const counts = new Map<TrackedBatch, number>();
    for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    let last: TrackedBatch | undefined;
    for (const tracked of this.#queue) {
      if (tracked.remaining <= 0) {
        last = tracked;
        continue;
      }
      if (counts.get(tracked) !== tracked.remaining) break;
      last = tracked;
    }
    return last;
  }

  /** Batches produced but not yet acknowledged. */
  get unacked(): number {
    return this.#queue.length;
  }

  get acked(): number {
    return this.#acked;
  }

  /** Resolves once every ack started so far has finished. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /** Negatively acknowledges every batch not yet acknowledged (shutdown or fatal error); they will be delivered again. */
  async nackRemaining(reason: Error): Promise<void> {
    await this.#chain;
    const rest = this.#queue.splice(0);
    for (const tracked of rest) {
      try {
        await tracked.batch.nack(reason, true);
      } catch (error) {
        this.#onAckError(error);
      }
    }
  }

  #pump(): void {
    while (this.#queue.length > 0 && (this.#queue[0] as TrackedBatch).remaining <= 0) {
      const head = this.#queue.shift() as TrackedBatch;
      this.#chain = this.#chain.then(async () => {
        if (this.#ackError !== undefined) return;
        try {
          await head.batch.ack();
          this.#acked++;
        } catch (error) {
          this.#ackError = error;
          this.#onAckError(error);
        }
      });
    }
  }
}
