import { abortError } from "../core/abort.js";
import { JunctionError, configError } from "../core/errors.js";
import { ConsecutiveWindow } from "./breaker-consecutive-window.js";
import type { ConsecutiveWindowOptions } from "./breaker-consecutive-window.js";
import { CountWindow } from "./breaker-count-window.js";
import type { CountWindowOptions } from "./breaker-count-window.js";
import { TimeWindow } from "./breaker-time-window.js";
import type { TimeWindowOptions } from "./breaker-time-window.js";
import type { BreakerWindow, BreakerWindowSnapshot, BreakerWindowStats, WindowBreach } from "./breaker-window.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyFn } from "./policy.js";
import { neverAbortedSignal } from "./policy.js";

export type { ConsecutiveWindowOptions, CountWindowOptions, TimeWindowOptions };
export type { BreakerWindowSnapshot, BreakerWindowStats };

export type CircuitState = "closed" | "open" | "half-open" | "isolated";

export type CircuitTransitionReason = WindowBreach | "open-elapsed" | "probe-failed" | "probes-succeeded" | "isolated" | "reset" | "restored";

export interface CircuitBreakerOptions {
  window: ConsecutiveWindowOptions | CountWindowOptions | TimeWindowOptions;
  /** How long the circuit stays open before letting probes through. Judged on the next call: no timer. */
  openDurationMs: number;
  halfOpen?: {
    /** Probe calls allowed at the same time while half-open. Default 1. */
    maxProbes?: number;
    /** Probe successes needed to close. Default 1. */
    successThreshold?: number;
  };
  /** Which thrown errors count as failures; the others pass through uncounted. Default: all of them. */
  handle?: (error: unknown) => boolean;
  /** State saved by `snapshot()`, e.g. before a restart. */
  initialState?: CircuitBreakerSnapshot;
  clock?: Clock;
}

/** A plain, JSON-safe picture of a breaker, for saving across restarts. */
export interface CircuitBreakerSnapshot {
  version: 1;
  state: CircuitState;
  /** While open: time left before half-open. Resumed from the moment of `restore`. */
  openRemainingMs?: number;
  /** While half-open: probe successes so far. */
  probeSuccesses?: number;
  window: BreakerWindowSnapshot;
}

export interface CircuitStateChange {
  from: CircuitState;
  to: CircuitState;
  reason: CircuitTransitionReason;
}

/** Thrown, without calling the function, while the circuit refuses calls. */
export class BrokenCircuitError extends JunctionError {
  readonly state: CircuitState;

  constructor(state: CircuitState, retryAfterMs?: number) {
    super(brokenMessage(state, retryAfterMs), { kind: "transient", code: "circuit.open", retryAfterMs, context: { state } });
    this.name = "BrokenCircuitError";
    this.state = state;
  }
}

function brokenMessage(state: CircuitState, retryAfterMs: number | undefined): string {
  if (state === "isolated") return "The circuit breaker was isolated on purpose and refuses every call; call reset() on it to let calls through again";
  if (state === "half-open") return "The circuit breaker is half-open and its probe calls are still running; retry in a moment";
  return `The circuit breaker is open after too many failures and refuses calls for another ${Math.ceil(retryAfterMs ?? 0)} ms; check the service behind it, then retry`;
}


/**
 * A circuit breaker. All time is read from the clock when calls come; a breaker that nobody
 * calls costs a few hundred bytes and no timer, so thousands of them (one per tenant, per host…) are cheap.
 */
export class CircuitBreakerPolicy implements Policy {
  readonly #window: BreakerWindow;
  readonly #clock: Clock;
  readonly #openDurationMs: number;
  readonly #maxProbes: number;
  readonly #successThreshold: number;
  readonly #handle: ((error: unknown) => boolean) | undefined;
  #state: CircuitState = "closed";
  #openedAt = 0;
  /** Bumped on every transition, so calls that started in an earlier state do not count in this one. */
  #epoch = 0;
  #probes = 0;
  #probeSuccesses = 0;
  // Emitters are created when first subscribed to, to keep idle breakers small.
  #onStateChange: EventEmitter<CircuitStateChange> | undefined;
  #onBreak: EventEmitter<{ reason: CircuitTransitionReason }> | undefined;
  #onReset: EventEmitter<{ reason: CircuitTransitionReason }> | undefined;
  #onHalfOpen: EventEmitter<{ reason: CircuitTransitionReason }> | undefined;
  #onSuccess: EventEmitter<{ durationMs: number }> | undefined;
  #onFailure: EventEmitter<{ error: unknown; durationMs: number }> | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.#window = createWindow(options.window);
    this.#clock = options.clock ?? systemClock;
    if (!(options.openDurationMs >= 0)) throw configError(`circuit breaker openDurationMs must be >= 0, got ${String(options.openDurationMs)}`);
    this.#openDurationMs = options.openDurationMs;
    this.#maxProbes = positiveInteger("halfOpen.maxProbes", options.halfOpen?.maxProbes ?? 1);
    this.#successThreshold = positiveInteger("halfOpen.successThreshold", options.halfOpen?.successThreshold ?? 1);
    this.#handle = options.handle;
    if (options.initialState) this.restore(options.initialState);
  }

  get onStateChange(): EventEmitter<CircuitStateChange> {
    return (this.#onStateChange ??= new EventEmitter());
  }
  /** The circuit opened (or was isolated). */
  get onBreak(): EventEmitter<{ reason: CircuitTransitionReason }> {
    return (this.#onBreak ??= new EventEmitter());
  }
  /** The circuit closed. */
  get onReset(): EventEmitter<{ reason: CircuitTransitionReason }> {
    return (this.#onReset ??= new EventEmitter());
  }
  get onHalfOpen(): EventEmitter<{ reason: CircuitTransitionReason }> {
    return (this.#onHalfOpen ??= new EventEmitter());
  }
  get onSuccess(): EventEmitter<{ durationMs: number }> {
    return (this.#onSuccess ??= new EventEmitter());
  }
  /** A counted failure (one `handle` accepted). */
  get onFailure(): EventEmitter<{ error: unknown; durationMs: number }> {
    return (this.#onFailure ??= new EventEmitter());
  }

  /** The current state; an open circuit whose open time has passed turns half-open here. */
  get state(): CircuitState {
    this.#refresh(this.#clock.now());
    return this.#state;
  }

  /** What the window currently holds (calls made while closed). */
  get stats(): BreakerWindowStats {
    return this.#window.stats(this.#clock.now());
  }

  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    const start = this.#clock.now();
    let probe = false;
    switch (this.#state) {
      case "isolated":
        throw new BrokenCircuitError("isolated");
      case "open": {
        const left = this.#openedAt + this.#openDurationMs - start;
        if (left > 0) throw new BrokenCircuitError("open", left);
        this.#transition("half-open", "open-elapsed", start);
        break;
      }
      case "closed":
      case "half-open":
        break;
    }
    if (this.#state === "half-open") {
      if (this.#probes >= this.#maxProbes) throw new BrokenCircuitError("half-open");
      this.#probes++;
      probe = true;
    }
    const epoch = this.#epoch;
    let result: T;
    try {
      result = await fn({ signal: signal ?? neverAbortedSignal });
    } catch (error) {
      this.#failed(error, start, epoch, probe, signal);
      throw error;
    }
    this.#succeeded(start, epoch, probe);
    return result;
  }

  #succeeded(start: number, epoch: number, probe: boolean): void {
    const now = this.#clock.now();
    const durationMs = now - start;
    if (this.#onSuccess !== undefined && this.#onSuccess.size > 0) this.#onSuccess.emit({ durationMs });
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#probes--;
      if (++this.#probeSuccesses >= this.#successThreshold) this.#transition("closed", "probes-succeeded", now);
      return;
    }
    const breach = this.#window.record(now, false, durationMs);
    if (breach !== undefined) this.#transition("open", breach, now);
  }

  #failed(error: unknown, start: number, epoch: number, probe: boolean, signal: AbortSignal | undefined): void {
    const now = this.#clock.now();
    const durationMs = now - start;
    // A caller who gave up says nothing about the health of the service behind the breaker.
    const counted = !signal?.aborted && (this.#handle === undefined || this.#handle(error));
    if (counted && this.#onFailure !== undefined && this.#onFailure.size > 0) this.#onFailure.emit({ error, durationMs });
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#probes--;
      if (counted) this.#transition("open", "probe-failed", now);
      return;
    }
    if (!counted) return;
    const breach = this.#window.record(now, true, durationMs);
    if (breach !== undefined) this.#transition("open", breach, now);
  }

  /** Forces the circuit open, refusing every call until `reset()`. */
  isolate(): void {
    if (this.#state !== "isolated") this.#transition("isolated", "isolated", this.#clock.now());
  }

  /** Closes the circuit and forgets every recorded call. */
  reset(): void {
    if (this.#state === "closed") this.#window.reset();
    else this.#transition("closed", "reset", this.#clock.now());
  }

  snapshot(): CircuitBreakerSnapshot {
    const now = this.#clock.now();
    this.#refresh(now);
    const snapshot: CircuitBreakerSnapshot = { version: 1, state: this.#state, window: this.#window.snapshot(now) };
    if (this.#state === "open") snapshot.openRemainingMs = Math.max(0, this.#openedAt + this.#openDurationMs - now);
    if (this.#state === "half-open") snapshot.probeSuccesses = this.#probeSuccesses;
    return snapshot;
  }

  toJSON(): CircuitBreakerSnapshot {
    return this.snapshot();
  }

  /**
   * Takes back a state saved by `snapshot()`. Window stats from a differently configured
   * window are dropped (the breaker starts them afresh); calls in flight no longer count.
   */
  restore(snapshot: CircuitBreakerSnapshot): void {
    if (snapshot?.version !== 1 || !["closed", "open", "half-open", "isolated"].includes(snapshot.state)) {
      throw configError("circuit breaker snapshot is not one this version wrote (expected version 1 with a known state); drop the saved state to start closed");
    }
    const now = this.#clock.now();
    const from = this.#state;
    this.#state = snapshot.state;
    this.#epoch++;
    this.#probes = 0;
    this.#probeSuccesses = snapshot.state === "half-open" ? Math.max(0, snapshot.probeSuccesses ?? 0) : 0;
    const remaining = Math.min(this.#openDurationMs, Math.max(0, snapshot.openRemainingMs ?? this.#openDurationMs));
    this.#openedAt = now - (this.#openDurationMs - remaining);
    if (!this.#window.restore(snapshot.window, now)) this.#window.reset();
    if (from !== this.#state) this.#onStateChange?.emit({ from, to: this.#state, reason: "restored" });
  }

  #refresh(now: number): void {
    if (this.#state === "open" && now - this.#openedAt >= this.#openDurationMs) this.#transition("half-open", "open-elapsed", now);
  }

  #transition(to: CircuitState, reason: CircuitTransitionReason, now: number): void {
    const from = this.#state;
    this.#state = to;
    this.#epoch++;
    this.#probes = 0;
    this.#probeSuccesses = 0;
    if (to === "open") this.#openedAt = now;
    if (to === "closed") this.#window.reset();
    this.#onStateChange?.emit({ from, to, reason });
    if (to === "open" || to === "isolated") this.#onBreak?.emit({ reason });
    else if (to === "closed") this.#onReset?.emit({ reason });
    else this.#onHalfOpen?.emit({ reason });
  }
}

export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options);
}

function createWindow(options: CircuitBreakerOptions["window"]): BreakerWindow {
  switch (options?.kind) {
    case "consecutive":
      return new ConsecutiveWindow(options);
    case "count":
      return new CountWindow(options);
    case "time":
      return new TimeWindow(options);
    default:
      throw configError('circuit breaker window.kind must be "consecutive", "count" or "time"');
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw configError(`circuit breaker ${name} must be an integer >= 1, got ${String(value)}`);
  return value;
}
