import type { Message } from "../../core/message.js";

export interface HttpResponseSpec {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** One request whose messages wait to be pulled as a batch; `respond` answers it once. */
export interface PendingRequest {
  messages: Message[];
  respond(response: HttpResponseSpec): void;
}

/**
 * The bridge between push (HTTP handlers) and pull (`batches()`): requests queue here
 * until the source asks for the next batch. `capacity` bounds requests in flight, from
 * arrival until their response: beyond it new requests are turned away (503).
 */
export class PendingRequests {
  readonly capacity: number;
  readonly #queue: PendingRequest[] = [];
  #inFlight = 0;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Claims a slot for a new request; false when `capacity` requests are already in flight. */
  reserve(): boolean {
    if (this.#inFlight >= this.capacity) return false;
    this.#inFlight += 1;
    return true;
  }

  /** Gives back a slot once the request has been answered or abandoned. */
  release(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  push(request: PendingRequest): void {
    this.#queue.push(request);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Drops a request that has not been pulled yet (its client went away); true when it was still queued. */
  remove(request: PendingRequest): boolean {
    const at = this.#queue.indexOf(request);
    if (at === -1) return false;
    this.#queue.splice(at, 1);
    return true;
  }

  /** The next queued request without waiting. */
  shift(): PendingRequest | undefined {
    return this.#queue.shift();
  }

  /** The next request, waiting for one; undefined once `signal` aborts. */
  async take(signal: AbortSignal): Promise<PendingRequest | undefined> {
    while (!signal.aborted) {
      const next = this.#queue.shift();
      if (next) return next;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => {
          this.#wake = undefined;
          resolve();
        };
        this.#wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    return undefined;
  }

  /** Answers every queued request with `response` (shutdown). */
  rejectQueued(response: HttpResponseSpec): void {
    for (const request of this.#queue.splice(0)) request.respond(response);
  }
}
