import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";

/** How long one pull request waits on the server for messages before the next one is sent. */
const PULL_EXPIRES_MS = 10_000;
/** On close: how long an open pull may still deliver what the server already sent, before it is cancelled. */
const CLOSE_GRACE_MS = 200;

/**
 * Messages of a durable pull consumer, read ahead into a bounded buffer: each pull asks for
 * at most the room left in the buffer, so no more than `capacity` messages wait here.
 * Closing stops pulling and collects for a moment what the open pull still brings, so that
 * those messages can be handed back at once instead of waiting for their ack_wait.
 */
export class PullFeed<T> {
  readonly #consumer: Consumer;
  readonly #capacity: number;
  readonly #received: (msg: JsMsg) => T;
  readonly #buffer: T[] = [];
  #pull: ConsumerMessages | undefined;
  #failure: Error | undefined;
  #ended = false;
  #closing = false;
  #wake: (() => void) | undefined;
  #room: (() => void) | undefined;
  #pullEnded: (() => void) | undefined;
  readonly #pump: Promise<void>;

  /** `received` turns each message into what the buffer holds, as soon as it arrives. */
  constructor(consumer: Consumer, capacity: number, received: (msg: JsMsg) => T) {
    this.#consumer = consumer;
    this.#capacity = capacity;
    this.#received = received;
    this.#pump = this.#read();
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Ends every wait with `error` (a lost connection); `take` throws it. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#notify();
  }

  /**
   * Up to `max` buffered messages; waits for at least one (up to `waitMs` when given) and
   * returns [] when `signal` aborts or the wait times out. Throws when pulling failed.
   */
  async take(max: number, signal: AbortSignal, waitMs?: number): Promise<T[]> {
    if (this.#buffer.length === 0 && !this.#ended && this.#failure === undefined && !signal.aborted) {
      await this.#waitForMessages(signal, waitMs);
      // Messages of one pull arrive together: let the reader take in those already received.
      if (this.#buffer.length > 0 && this.#buffer.length < max) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure;
    const taken = this.#buffer.splice(0, max);
    if (taken.length > 0) this.#releaseRoom();
    return taken;
  }

  /** Stops pulling; returns the messages still buffered, to hand back. */
  async close(): Promise<T[]> {
    this.#closing = true;
    this.#releaseRoom();
    const pull = this.#pull;
    if (pull !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#pullEnded = resolve;
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      clearTimeout(timer);
      await pull.close().catch(() => undefined);
    }
    await this.#pump;
    return this.#buffer.splice(0);
  }

  async #read(): Promise<void> {
    try {
      while (!this.#closing && this.#failure === undefined) {
        const room = this.#capacity - this.#buffer.length;
        if (room <= 0) {
          await new Promise<void>((resolve) => (this.#room = resolve));
          continue;
        }
        const pull = await this.#consumer.fetch({ max_messages: room, expires: PULL_EXPIRES_MS });
        if (this.#closing) {
          // Not iterated yet, so the pull request was never sent.
          await pull.close().catch(() => undefined);
          break;
        }
        this.#pull = pull;
        try {
          for await (const msg of pull) {
            this.#buffer.push(this.#received(msg));
            this.#notify();
          }
        } finally {
          this.#pull = undefined;
          this.#pullEnded?.();
        }
      }
    } catch (error) {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
    } finally {
      this.#ended = true;
      this.#notify();
    }
  }

  #releaseRoom(): void {
    this.#room?.();
    this.#room = undefined;
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  #waitForMessages(signal: AbortSignal, waitMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = waitMs === undefined ? undefined : setTimeout(done, waitMs);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }
}
