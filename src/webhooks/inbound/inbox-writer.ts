import type { InboundAcceptance, NewInboundEvent, WebhookInboxStore } from "../../state/webhook-types.js";

interface Pending {
  event: NewInboundEvent;
  resolve(outcome: InboundAcceptance): void;
  reject(error: unknown): void;
}

const MAX_GROUP = 256;

/**
 * Group commit for the inbox: events whose requests arrive while a write is in flight are
 * stored together in the next one, so a burst of webhooks costs a few transactions instead of
 * one each. Every request still waits for the commit that holds its own event.
 */
export class InboxWriter {
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly inbox: WebhookInboxStore,
    /** Writes running at the same time (1 for SQLite, whose writes are serialised anyway). */
    private readonly maxInFlight: number,
  ) {}

  accept(event: NewInboundEvent): Promise<InboundAcceptance> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#schedule();
    });
  }

  /** The write starts after the current turn of the event loop, so requests read in the same turn share it. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const group = this.#queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    this.#inFlight++;
    this.inbox.accept(group.map((pending) => pending.event)).then(
      (outcomes) => group.forEach((pending, index) => pending.resolve(outcomes[index] ?? "duplicate")),
      (error: unknown) => group.forEach((pending) => pending.reject(error)),
    ).finally(() => {
      this.#inFlight--;
      if (this.#queue.length > 0) this.#schedule();
    });
  }
}
