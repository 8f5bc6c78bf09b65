interface Outstanding<P> {
  seq: number;
  /** Where the batch started: the read position to rewind to when it is nacked. */
  from: P;
  void: boolean;
}

/**
 * Tracks the read position of a pull-based source between reading and acknowledging.
 *
 * The runner acks batches in order but may pull the next batch before acking the
 * previous one, so the source reads ahead in memory and persists a position only when
 * the batch that reached it is acked. A nack rewinds the in-memory read position to the
 * start of the nacked batch and voids it and every batch read after it: acking those
 * later must not move the checkpoint past the nacked batch. Batches read before it are
 * unaffected.
 */
export class PositionLedger<P> {
  #seq = 0;
  #generation = 0;
  #committed: P;
  #reading: P;
  readonly #outstanding: Outstanding<P>[] = [];
  readonly #persist: (position: P) => Promise<void>;

  constructor(start: P, persist: (position: P) => Promise<void>) {
    this.#committed = start;
    this.#reading = start;
    this.#persist = persist;
  }

  /** Where the next read starts. */
  get reading(): P {
    return this.#reading;
  }

  /** The last position acked (and persisted). */
  get committed(): P {
    return this.#committed;
  }

  /** Increases on every rewind; a reader that buffers ahead compares it to notice one. */
  get generation(): number {
    return this.#generation;
  }

  /** Records that a batch ending at `position` was read; returns its ack and nack. */
  advance(position: P): { ack(): Promise<void>; nack(): void } {
    const batch: Outstanding<P> = { seq: this.#seq++, from: this.#reading, void: false };
    this.#outstanding.push(batch);
    this.#reading = position;
    return {
      ack: async () => {
        if (!this.#settle(batch)) return;
        await this.#persist(position);
        this.#committed = position;
      },
      nack: () => {
        if (!this.#settle(batch)) return;
        const kept = this.#outstanding.filter((other) => other.seq < batch.seq);
        for (const later of this.#outstanding) if (later.seq > batch.seq) later.void = true;
        this.#outstanding.splice(0, this.#outstanding.length, ...kept);
        this.#reading = batch.from;
        this.#generation += 1;
      },
    };
  }

  /** Moves the read position without a batch (e.g. past blank lines); persisted with the next ack. */
  skipTo(position: P): void {
    this.#reading = position;
  }

  /** Removes `batch` from the outstanding list; false when it was already settled or voided. */
  #settle(batch: Outstanding<P>): boolean {
    if (batch.void) return false;
    batch.void = true;
    const at = this.#outstanding.indexOf(batch);
    if (at !== -1) this.#outstanding.splice(at, 1);
    return true;
  }
}
