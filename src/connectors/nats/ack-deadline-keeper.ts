import type { Delivery } from "./delivery.js";

/**
 * Keeps the server from delivering again a message Junction still holds (buffered, being
 * transformed or written): every third of ack_wait each unsettled delivery gets a
 * "working" signal, which restarts its ack_wait. A crashed process sends none, so its
 * messages come back after ack_wait as usual.
 */
export class AckDeadlineKeeper {
  readonly #held = new Set<Delivery>();
  readonly #timer: NodeJS.Timeout;

  constructor(ackWaitMs: number) {
    const every = Math.max(250, Math.floor(ackWaitMs / 3));
    this.#timer = setInterval(() => this.#signal(), every);
    this.#timer.unref();
  }

  hold(delivery: Delivery): void {
    this.#held.add(delivery);
  }

  release(delivery: Delivery): void {
    this.#held.delete(delivery);
  }

  get held(): number {
    return this.#held.size;
  }

  #signal(): void {
    for (const delivery of this.#held) {
      if (delivery.settled) {
        this.#held.delete(delivery);
        continue;
      }
      try {
        delivery.msg.working();
      } catch {
        // The connection is closed: the message comes back after ack_wait anyway.
        return;
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#held.clear();
  }
}
