import { abortError, linkSignals } from "../core/abort.js";
import { errorMessage } from "../core/errors.js";
import type { HealthResult, HealthStatus } from "../core/health.js";
import type { SecretRedactor } from "../core/redact.js";
import type { JunctionMetrics } from "./metrics.js";

export type HealthCheck = (signal: AbortSignal) => Promise<HealthResult>;

export interface HealthCheckOptions {
  /** A required check that is unhealthy makes the whole report unhealthy and /ready fail. Default true. */
  required?: boolean;
  /** Default: the registry's `defaultTimeoutMs`. */
  timeoutMs?: number;
}

export type CheckReport = HealthResult & { required: boolean };

export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, CheckReport>;
  /** ISO 8601. */
  checkedAt: string;
}

export interface HealthRegistryOptions {
  /** When given, `junction_connection_up` is set from every check result. */
  metrics?: JunctionMetrics;
  /** Check details (often error messages) pass through it. */
  redactor?: SecretRedactor;
  /** Default 5000. */
  defaultTimeoutMs?: number;
}

interface RegisteredCheck {
  check: HealthCheck;
  required: boolean;
  timeoutMs: number;
}

const SEVERITY: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/**
 * Named health checks (usually one per connection) run concurrently, each bounded by a
 * timeout, plus degradation overlays reported by the engine (e.g. an alert that fired).
 */
export class HealthRegistry {
  readonly #checks = new Map<string, RegisteredCheck>();
  readonly #degraded = new Map<string, string>();
  readonly #metrics: JunctionMetrics | undefined;
  readonly #redactor: SecretRedactor | undefined;
  readonly #defaultTimeoutMs: number;

  constructor(options: HealthRegistryOptions = {}) {
    this.#metrics = options.metrics;
    this.#redactor = options.redactor;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 5000;
  }

  register(name: string, check: HealthCheck, options: HealthCheckOptions = {}): void {
    if (this.#checks.has(name)) throw new Error(`A health check named "${name}" is already registered; unregister it first.`);
    this.#checks.set(name, {
      check,
      required: options.required ?? true,
      timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
    });
  }

  unregister(name: string): boolean {
    this.#metrics?.connectionHealth.remove({ connection: name });
    return this.#checks.delete(name);
  }

  /**
   * Marks `name` degraded with `detail` (undefined clears it). When `name` is a registered
   * check its result is overlaid (never better than degraded); otherwise it appears in the
   * report as an optional check of its own.
   */
  setDegraded(name: string, detail: string | undefined): void {
    if (detail === undefined) this.#degraded.delete(name);
    else this.#degraded.set(name, detail);
  }

  /** Names currently marked degraded through `setDegraded`. */
  degradedNames(): string[] {
    return [...this.#degraded.keys()];
  }

  async check(signal?: AbortSignal): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, registered]) => [name, await this.#run(name, registered, signal)] as const),
    );
    const checks: Record<string, CheckReport> = {};
    for (const [name, result] of entries) checks[name] = result;
    for (const [name, detail] of this.#degraded) {
      const existing = checks[name];
      if (existing === undefined) {
        checks[name] = { status: "degraded", latencyMs: 0, detail: this.#redact(detail), required: false };
      } else {
        checks[name] = {
          ...existing,
          status: worse(existing.status, "degraded"),
          detail: this.#redact(existing.detail ? `${existing.detail}; ${detail}` : detail),
        };
      }
    }
    return { status: overallStatus(checks), checks, checkedAt: new Date().toISOString() };
  }

  /** Runs every check; ready when every required check is healthy or degraded. */
  async ready(signal?: AbortSignal): Promise<{ ready: boolean; failing: string[]; report: HealthReport }> {
    const report = await this.check(signal);
    const failing = failingRequiredChecks(report);
    return { ready: failing.length === 0, failing, report };
  }

  async #run(name: string, registered: RegisteredCheck, outer: AbortSignal | undefined): Promise<CheckReport> {
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 100) / 100;
    const timeout = new AbortController();
    const linked = linkSignals(outer, timeout.signal);
    const signal = linked.signal;
    let onAbort: (() => void) | undefined;
    const timer = setTimeout(() => {
      const error = new Error(`health check timed out after ${registered.timeoutMs}ms`);
      error.name = "TimeoutError";
      timeout.abort(error);
    }, registered.timeoutMs);
    let result: HealthResult;
    try {
      // Settles as soon as the timeout fires or the caller aborts, whether or not the check listens.
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal));
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      // Run the check on a later tick so a synchronous throw becomes a rejection like any other.
      const checking = Promise.resolve().then(() => registered.check(signal));
      result = normalise(await Promise.race([checking, stopped]), elapsed());
    } catch (error) {
      result = { status: "unhealthy", latencyMs: elapsed(), detail: errorMessage(error) };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
      linked.dispose();
    }
    this.#metrics?.connectionHealth.set({ connection: name }, result.status === "unhealthy" ? 0 : 1);
    const report: CheckReport = { status: result.status, latencyMs: result.latencyMs, required: registered.required };
    if (result.detail !== undefined) report.detail = this.#redact(result.detail);
    return report;
  }

  #redact(text: string): string {
    return this.#redactor ? this.#redactor.redact(text) : text;
  }
}

/** Ready when every required check is healthy or degraded. */
export function isReady(report: HealthReport): boolean {
  return failingRequiredChecks(report).length === 0;
}

/** Names of required checks that are unhealthy. */
export function failingRequiredChecks(report: HealthReport): string[] {
  return Object.entries(report.checks)
    .filter(([, check]) => check.required && check.status === "unhealthy")
    .map(([name]) => name);
}

/** Unhealthy if a required check is unhealthy, degraded if any check is degraded or unhealthy, else healthy. */
export function overallStatus(checks: Record<string, CheckReport>): HealthStatus {
  let status: HealthStatus = "healthy";
  for (const check of Object.values(checks)) {
    if (check.status === "unhealthy" && check.required) return "unhealthy";
    if (check.status !== "healthy") status = "degraded";
  }
  return status;
}

function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

function normalise(value: unknown, measuredMs: number): HealthResult {
  if (value === null || typeof value !== "object") {
    return { status: "unhealthy", latencyMs: measuredMs, detail: "health check returned no result" };
  }
  const { status, latencyMs, detail } = value as Partial<HealthResult>;
  if (status !== "healthy" && status !== "degraded" && status !== "unhealthy") {
    return { status: "unhealthy", latencyMs: measuredMs, detail: `health check returned an unknown status: ${String(status)}` };
  }
  const result: HealthResult = {
    status,
    latencyMs: typeof latencyMs === "number" && Number.isFinite(latencyMs) && latencyMs >= 0 ? latencyMs : measuredMs,
  };
  if (typeof detail === "string" && detail.length > 0) result.detail = detail;
  return result;
}
