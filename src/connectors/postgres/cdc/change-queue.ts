import type { Message } from "../../../core/message.js";
import type { StreamItem } from "./change-converter.js";
import type { Lsn } from "./lsn.js";

export interface TakenBatch {
  messages: Message[];
  /** The highest position taken: complete once these messages and everything before are acked. */
  position: Lsn | undefined;
}

/**
 * The bounded hand-over between the replication stream (producer) and the runner
 * (consumer). `push` of a change waits while `capacity` changes are queued: the stream is
 * paused meanwhile, so memory stays bounded however fast the server sends. Positions
 * never wait; consecutive ones collapse into the latest.
 */
export class ChangeQueue {
  readonly #capacity: number;
  readonly #items: StreamItem[] = [];
  #changes = 0;
  #failure: unknown;
  #closed = false;
  #roomWaiters: Array<() => void> = [];
  #itemWaiters: Array<() => void> = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  get failure(): unknown {
    return this.#failure;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async push(item: StreamItem): Promise<void> {
    if (item.kind === "position") {
      const last = this.#items[this.#items.length - 1];
      if (last?.kind === "position") last.lsn = last.lsn > item.lsn ? last.lsn : item.lsn;
      else this.#items.push(item);
    } else {
      while (this.#changes >= this.#capacity && !this.#closed) await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      if (this.#closed) return;
      this.#items.push(item);
      this.#changes += 1;
    }
    this.#wake("items");
  }

  /** Up to `maxChanges` changes in order, plus the positions right behind them. */
  take(maxChanges: number): TakenBatch {
    const messages: Message[] = [];
    let position: Lsn | undefined;
    while (this.#items.length > 0) {
      const head = this.#items[0] as StreamItem;
      if (head.kind === "change") {
        if (messages.length >= maxChanges) break;
        messages.push(head.message);
      } else if (position === undefined || head.lsn > position) {
        position = head.lsn;
      }
      this.#items.shift();
    }
    this.#changes -= messages.length;
    if (messages.length > 0) this.#wake("room");
    return { messages, position };
  }

  /** Resolves once something is queued, the stream failed or the queue closed, or after `timeoutMs`, or on abort. */
  async wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#items.length > 0 || this.#failure !== undefined || this.#closed || signal.aborted) return;
    await this.#nextPush(timeoutMs, signal);
  }

  /** Resolves at the next push, failure or close, after `timeoutMs`, or on abort; leaves no timer or listener. */
  async #nextPush(timeoutMs: number, signal: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        wake = done;
        this.#itemWaiters.push(done);
        timer = setTimeout(done, timeoutMs);
        signal.addEventListener("abort", done, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (wake) {
        signal.removeEventListener("abort", wake);
        this.#itemWaiters = this.#itemWaiters.filter((waiter) => waiter !== wake);
      }
    }
  }

  /** Like `wait`, but until at least `count` changes are queued (a fuller batch), within `timeoutMs`. */
  async waitForChanges(count: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#changes < count && this.#failure === undefined && !this.#closed && !signal.aborted) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await this.#nextPush(left, signal);
    }
  }

  /** The stream broke: the consumer sees `error` at its next wait. */
  fail(error: unknown): void {
    this.#failure ??= error;
    this.#wake("items");
  }

  /** Releases a producer waiting for room; later pushes are dropped. */
  close(): void {
    this.#closed = true;
    this.#wake("room");
    this.#wake("items");
  }

  #wake(which: "room" | "items"): void {
    const waiters = which === "room" ? this.#roomWaiters : this.#itemWaiters;
    if (waiters.length === 0) return;
    if (which === "room") this.#roomWaiters = [];
    else this.#itemWaiters = [];
    for (const wake of waiters) wake();
  }
}
