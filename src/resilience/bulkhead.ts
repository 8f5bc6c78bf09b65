import { abortError } from "../core/abort.js";
import { JunctionError, configError } from "../core/errors.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyFn } from "./policy.js";
import { neverAbortedSignal } from "./policy.js";

export interface BulkheadOptions {
  /** Calls allowed to run at the same time. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot, first in first out. Default 0: refuse at once when full. */
  maxQueue?: number;
  /** A queued call gives up after waiting this long. Default: it waits as long as it takes. */
  queueTimeoutMs?: number;
  clock?: Clock;
}

export type BulkheadRejectionCode = "bulkhead.full" | "bulkhead.queue_timeout";

/** The bulkhead refused the call (it was full) or the call waited in its queue too long. */
export class BulkheadRejectedError extends JunctionError {
  constructor(code: BulkheadRejectionCode, maxConcurrent: number, maxQueue: number) {
    super(
      code === "bulkhead.full"
        ? `The bulkhead is full (${maxConcurrent} calls running, ${maxQueue} waiting); retry later or raise maxConcurrent / maxQueue`
        : `The call waited too long for one of the bulkhead's ${maxConcurrent} slots; retry later or raise maxConcurrent / queueTimeoutMs`,
      { kind: "transient", code, context: { maxConcurrent, maxQueue } },
    );
    this.name = "BulkheadRejectedError";
  }
}

/** A queued call: a node of a doubly linked list, so leaving from the middle (abort, timeout) is O(1). */
interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Ends the queue-timeout sleep once the waiter leaves the queue. */
  timeout: AbortController | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}


export class BulkheadPolicy implements Policy {
  readonly #maxConcurrent: number;
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number | undefined;
  readonly #clock: Clock;
  #executing = 0;
  #queued = 0;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  readonly onReject = new EventEmitter<{ code: BulkheadRejectionCode }>();

  constructor(options: BulkheadOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw configError(`bulkhead maxConcurrent must be an integer >= 1, got ${String(options.maxConcurrent)}`);
    }
    const maxQueue = options.maxQueue ?? 0;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw configError(`bulkhead maxQueue must be an integer >= 0, got ${String(maxQueue)}`);
    if (options.queueTimeoutMs !== undefined && !(options.queueTimeoutMs >= 0)) {
      throw configError(`bulkhead queueTimeoutMs must be >= 0, got ${String(options.queueTimeoutMs)}`);
    }
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxQueue = maxQueue;
    this.#queueTimeoutMs = options.queueTimeoutMs;
    this.#clock = options.clock ?? systemClock;
  }

  /** Calls running now. */
  get executing(): number {
    return this.#executing;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#executing < this.#maxConcurrent) {
      this.#executing++;
    } else if (this.#queued < this.#maxQueue) {
      // The slot is handed over by #release, already counted in #executing.
      await this.#enqueue(signal);
    } else {
      this.#reject("bulkhead.full");
      throw new BulkheadRejectedError("bulkhead.full", this.#maxConcurrent, this.#maxQueue);
    }
    try {
      return await fn({ signal: signal ?? neverAbortedSignal });
    } finally {
      this.#release();
    }
  }

  #reject(code: BulkheadRejectionCode): void {
    if (this.onReject.size > 0) this.onReject.emit({ code });
  }

  #enqueue(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, timeout: undefined, prev: this.#tail, next: undefined };
      if (this.#tail) this.#tail.next = waiter;
      else this.#head = waiter;
      this.#tail = waiter;
      this.#queued++;
      if (signal) {
        waiter.onAbort = () => {
          this.#unlink(waiter);
          reject(abortError(signal));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (this.#queueTimeoutMs !== undefined) {
        const timeout = (waiter.timeout = new AbortController());
        this.#clock.sleep(this.#queueTimeoutMs, timeout.signal).then(
          () => {
            if (timeout.signal.aborted) return; // granted a slot or aborted while the wake-up was on its way
            this.#unlink(waiter);
            this.#reject("bulkhead.queue_timeout");
            reject(new BulkheadRejectedError("bulkhead.queue_timeout", this.#maxConcurrent, this.#maxQueue));
          },
          () => undefined, // the waiter left the queue first
        );
      }
    });
  }

  /** Takes a waiter out of the queue and drops its abort listener and timeout. */
  #unlink(waiter: Waiter): void {
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.#head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.#tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.#queued--;
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.timeout?.abort();
  }

  #release(): void {
    const next = this.#head;
    if (next === undefined) {
      this.#executing--;
      return;
    }
    // Hand the slot straight to the oldest waiter, so newcomers cannot overtake the queue.
    this.#unlink(next);
    next.resolve();
  }
}

export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options);
}
