import { abortError } from "../core/abort.js";
import { configError } from "../core/errors.js";
import type { CacheHit, CacheStore } from "./cache-store.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyContext, PolicyFn } from "./policy.js";
import { neverAbortedSignal } from "./policy.js";

export interface CacheOptions {
  store: CacheStore;
  /** How long a result stays cached. */
  ttlMs: number;
  /** The cache key of an execution. */
  key: (context: PolicyContext) => string;
}

export interface CacheEvent {
  key: string;
}

export interface CacheStoreErrorEvent extends CacheEvent {
  operation: "get" | "set";
  error: unknown;
}


function ignore(): void {}

/**
 * One lookup-and-load shared by every concurrent execution of the same key. The function
 * runs under the flight's own signal, which aborts only when every waiter has given up.
 */
class Flight {
  readonly controller = new AbortController();
  promise: Promise<unknown> = Promise.resolve();
  /** Waiters that can still abort; a waiter without a signal pins the flight. */
  #abortable = 0;
  #pinned = false;

  constructor(
    readonly key: string,
    readonly owner: Map<string, Flight>,
  ) {}

  join(signal: AbortSignal | undefined): Promise<unknown> {
    if (signal === undefined) {
      this.#pinned = true;
      return this.promise;
    }
    this.#abortable++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortError(signal));
        this.#leave(signal);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  /** Forgets this flight so later executions start a new one. */
  forget(): void {
    if (this.owner.get(this.key) === this) this.owner.delete(this.key);
  }

  #leave(signal: AbortSignal): void {
    this.#abortable--;
    if (this.#abortable > 0 || this.#pinned) return;
    this.forget();
    this.controller.abort(signal.reason);
  }
}

/**
 * Caches results per key in a store. Concurrent executions of one key share a single
 * lookup and a single call; a failure is not cached and reaches every waiter. `onHit` and
 * `onMiss` fire once per shared lookup. `undefined` results are returned but not cached.
 * A store that fails is treated as a miss (reported on `onStoreError`), so the cache can
 * never make a call fail that would have succeeded without it.
 */
export class CachePolicy implements Policy {
  readonly onHit = new EventEmitter<CacheEvent>();
  readonly onMiss = new EventEmitter<CacheEvent>();
  readonly onStoreError = new EventEmitter<CacheStoreErrorEvent>();
  readonly store: CacheStore;
  readonly #ttlMs: number;
  readonly #key: (context: PolicyContext) => string;
  readonly #flights = new Map<string, Flight>();

  constructor(options: CacheOptions) {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
      throw configError(`cache: "ttlMs" must be a positive number, got ${String(options.ttlMs)}`, { code: "cache.invalid_option" });
    }
    this.store = options.store;
    this.#ttlMs = options.ttlMs;
    this.#key = options.key;
  }

  /** Executions currently sharing a lookup, by key count. */
  get inFlight(): number {
    return this.#flights.size;
  }

  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let key: string;
    try {
      key = this.#key({ signal: signal ?? neverAbortedSignal });
    } catch (error) {
      return Promise.reject(error);
    }
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      flight = new Flight(key, this.#flights);
      this.#flights.set(key, flight);
      flight.promise = this.#load(flight, fn);
      flight.promise.catch(ignore);
    }
    return flight.join(signal) as Promise<T>;
  }

  async #load(flight: Flight, fn: PolicyFn<unknown>): Promise<unknown> {
    const key = flight.key;
    try {
      let hit: CacheHit | undefined;
      try {
        hit = await this.store.get(key);
      } catch (error) {
        this.#storeError(key, "get", error);
      }
      if (hit !== undefined) {
        if (this.onHit.size > 0) this.onHit.emit({ key });
        return hit.value;
      }
      if (this.onMiss.size > 0) this.onMiss.emit({ key });
      const signal = flight.controller.signal;
      if (signal.aborted) throw abortError(signal);
      const value = await fn({ signal });
      if (value !== undefined) {
        try {
          await this.store.set(key, value, this.#ttlMs);
        } catch (error) {
          this.#storeError(key, "set", error);
        }
      }
      return value;
    } finally {
      flight.forget();
    }
  }

  #storeError(key: string, operation: "get" | "set", error: unknown): void {
    if (this.onStoreError.size > 0) this.onStoreError.emit({ key, operation, error });
  }
}

export function cache(options: CacheOptions): CachePolicy {
  return new CachePolicy(options);
}
