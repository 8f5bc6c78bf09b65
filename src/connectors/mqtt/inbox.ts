import { setImmediate as nextTurn } from "node:timers/promises";
import type { IPublishPacket } from "mqtt";
import { abortError } from "../../core/abort.js";

/** One PUBLISH received from the broker and not acknowledged yet. */
export interface ReceivedPublish {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
  /** Number of the network connection it came on: an acknowledgement is only valid on that same connection. */
  connection: number;
}

/** How many event-loop turns a batch waits for more messages that arrived in the same read. */
const GATHER_TURNS = 8;

/**
 * Messages received but not yet handed to the source, in arrival order. Push-style: the
 * client pushes each message with a `resume` callback that lets mqtt.js read the next
 * packet; once `capacity` messages wait, `resume` is held until the source takes some, so
 * the socket stops being read (the broker's in-flight window bounds it first).
 */
export class Inbox {
  readonly capacity: number;
  #items: ReceivedPublish[] = [];
  #held: Array<() => void> = [];
  #listeners = new Set<() => void>();
  #lastActivity = performance.now();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Milliseconds since the last message arrived or was acknowledged. */
  get idleMs(): number {
    return performance.now() - this.#lastActivity;
  }

  push(received: ReceivedPublish, resume: () => void): void {
    this.#items.push(received);
    this.#lastActivity = performance.now();
    if (this.#items.length > this.capacity) this.#held.push(resume);
    else resume();
    this.#notify();
  }

  /** Something happened that may bring more messages (an acknowledgement opens the broker's window). */
  touch(): void {
    this.#lastActivity = performance.now();
    this.#notify();
  }

  /** Removes and returns up to `max` messages, oldest first. */
  take(max: number): ReceivedPublish[] {
    const taken = this.#items.splice(0, max);
    while (this.#held.length > 0 && this.#items.length <= this.capacity) (this.#held.shift() as () => void)();
    return taken;
  }

  /** Drops the messages `stale` selects (those of a closed connection: the broker sends them again). */
  drop(stale: (received: ReceivedPublish) => boolean): void {
    this.#items = this.#items.filter((received) => !stale(received));
    // The held reads belong to the closed connection's parser: let it finish.
    for (const resume of this.#held.splice(0)) resume();
  }

  /** Lets messages that arrived in the same socket read join the waiting ones, up to `max`. */
  async gather(max: number): Promise<void> {
    for (let turn = 0; turn < GATHER_TURNS && this.#items.length > 0 && this.#items.length < max; turn++) {
      const before = this.#items.length;
      await nextTurn();
      if (this.#items.length === before) break;
    }
  }

  /** Resolves true at the next push or touch, false after `timeoutMs`; rejects when `signal` aborts. */
  changed(signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(onChange);
        signal.removeEventListener("abort", onAbort);
      };
      const onChange = (): void => {
        finish();
        resolve(true);
      };
      const onAbort = (): void => {
        finish();
        reject(abortError(signal));
      };
      this.#listeners.add(onChange);
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          resolve(false);
        }, Math.max(0, timeoutMs));
      }
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
