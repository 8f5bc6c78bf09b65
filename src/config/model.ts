import type { InboundWebhookConfig } from "./webhooks-inbound.js";
import type { OutboundWebhookConfig } from "./webhooks-outbound.js";

/**
 * The validated, normalised configuration the runtimes consume. The loader turns
 * `junction.yaml` (snake_case, duration strings) into this (camelCase, milliseconds),
 * and keeps where every value came from so later errors can point at the file.
 */
export interface JunctionConfig {
  version: 1;
  name: string;
  /** Absolute path of the config file, or "<inline>" when loaded from a string. */
  file: string;
  /** Directory that relative paths resolve against (the config file's directory). */
  baseDir: string;
  /** State store URL, relative sqlite paths already resolved against baseDir. */
  state: string;
  admin: AdminConfig;
  log: LogConfig;
  shutdownTimeoutMs: number;
  connections: Record<string, ConnectionConfig>;
  integrations: Record<string, IntegrationConfig>;
  webhooks: WebhooksConfig;
  /** Reserved for later capabilities (workflows, gateway): kept as written. */
  workflows?: unknown;
  gateway?: unknown;
}

export interface WebhooksConfig {
  /** Own "host:port" for the inbound endpoints; undefined: served by the admin server. */
  listen?: string;
  /** Settled outbound deliveries older than this are removed by the state maintenance. */
  deliveryRetentionMs: number;
  inbound: Record<string, InboundWebhookConfig>;
  outbound: Record<string, OutboundWebhookConfig>;
}

export interface AdminConfig {
  /** "host:port" to listen on, or null when disabled. Default "127.0.0.1:9464". */
  listen: string | null;
}

export interface LogConfig {
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /** "auto": pretty on a TTY, JSON lines otherwise. */
  format: "json" | "pretty" | "auto";
}

export interface ConnectionConfig {
  name: string;
  type: string;
  /** The connector's own options, as validated by its spec (snake_case keys kept as written). */
  options: Record<string, unknown>;
  /** Whether /ready waits for this connection (default true). */
  required: boolean;
  /**
   * Resilience written on the connection block, defaults filled in. Integrations whose
   * target is this connection start from it; their own `resilience` overrides per field.
   */
  resilience?: ResilienceConfig;
}

export type TriggerConfig =
  | { kind: "once" }
  | { kind: "continuous" }
  | { kind: "schedule"; cron: string; timezone?: string };

export interface BatchingConfig {
  /** Flush a sink batch at this many messages. */
  count: number;
  /** Flush a sink batch at this many bytes (approximate payload size). */
  bytes: number;
  /** Flush a partial sink batch this long after its first message arrived. */
  periodMs: number;
}

export type BackoffKind = "constant" | "linear" | "exponential";
export type JitterKind = "none" | "full" | "decorrelated";

export interface RetryConfig {
  /** Total attempts including the first; 1 disables retries. */
  attempts: number;
  backoff: BackoffKind;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: JitterKind;
}

export interface ResilienceConfig {
  retry: RetryConfig;
  /** Per sink write; 0 = none. */
  timeoutMs: number;
  /** cooperative: abort the call's signal and wait for it; aggressive: give up at once. Default cooperative. */
  timeoutStrategy: "cooperative" | "aggressive";
  circuitBreaker?: CircuitBreakerConfig;
  rateLimit?: RateLimitConfig;
  bulkhead?: BulkheadConfig;
  cache?: CacheConfig;
}

export type BreakerWindowConfig =
  | { kind: "consecutive"; failureThreshold: number }
  | { kind: "count"; size: number; minimumCalls: number; failureRateThreshold: number; slowCallRateThreshold?: number; slowCallDurationMs?: number }
  | { kind: "time"; windowMs: number; buckets: number; minimumCalls: number; failureRateThreshold: number; slowCallRateThreshold?: number; slowCallDurationMs?: number };

export interface CircuitBreakerConfig {
  window: BreakerWindowConfig;
  /** How long the circuit stays open before letting probes through (`reset_timeout`). */
  openDurationMs: number;
  halfOpenMaxProbes: number;
  successThreshold: number;
}

export interface RateLimitConfig {
  algorithm: "token_bucket" | "sliding_window";
  /** Permits per `perMs`. */
  limit: number;
  perMs: number;
  /** Token bucket capacity (the burst); default = limit. */
  burst: number;
  /** true: wait for a permit (abortable); false: fail the write as transient with Retry-After. Default true. */
  wait: boolean;
  /** Redis URL for a limit shared by several processes; absent = in-process. */
  redisUrl?: string;
}

export interface BulkheadConfig {
  maxConcurrent: number;
  maxQueue: number;
  queueTimeoutMs?: number;
}

export interface CacheConfig {
  ttlMs: number;
  maxEntries: number;
  /** Redis URL for a cache shared by several processes; absent = in-memory. */
  redisUrl?: string;
}

export interface MonitoringConfig {
  alerts: {
    /** Fraction 0..1 of failed messages over the window that degrades health; undefined = off. */
    errorRateThreshold?: number;
    /** Sink write latency that degrades health; undefined = off. */
    latencyThresholdMs?: number;
    windowMs: number;
  };
}

export interface StepConfig {
  /** Transform name, e.g. "map". */
  type: string;
  /** The value under that key, as validated by the transform's spec. */
  value: unknown;
}

export interface EndpointConfig {
  /** A connection name, or for `webhook:` endpoints "webhooks.inbound.<name>" / "webhooks.outbound.<name>". */
  connection: string;
  /** The `webhooks.inbound` (source) or `webhooks.outbound` (target) entry, for `webhook:` endpoints. */
  webhook?: string;
  /** The connector's source or sink options (everything but `connection`). */
  options: Record<string, unknown>;
}

/** One destination of an integration: `target:`, an item of `targets:` or the target of a `switch:` case. */
export interface TargetConfig extends EndpointConfig {
  /**
   * Unique within the integration: `name:`, else the connection name (in a switch, the
   * connection name followed by `_<case index>` when several cases write to that connection).
   * Labels metrics and logs; with `targets:` or `switch:` its dead letters have stage `sink:<name>`.
   */
  name: string;
  /** JSONata condition on the transformed message; absent: always (a switch's default case). */
  when?: string;
  /** The integration's `resilience:` over this target connection's, defaults filled in. */
  resilience: ResilienceConfig;
}

/**
 * single: `target:`, every message to the one target.
 * fan_out: `targets:`, every message to each target whose `when` holds.
 * switch: `switch:`, every message to the first case whose `when` holds.
 */
export type RoutingKind = "single" | "fan_out" | "switch";

export interface IntegrationConfig {
  name: string;
  description?: string;
  source: EndpointConfig;
  transforms: StepConfig[];
  /** At least one; exactly one, without `when`, for routing "single". */
  targets: TargetConfig[];
  routing: RoutingKind;
  trigger: TriggerConfig;
  batching: BatchingConfig;
  /** Sink batches written at the same time, per target. */
  concurrency: number;
  /**
   * The integration's `resilience:` (restarts of a failed run use its `retry`). With one
   * `target:` it is merged over that target connection's and is the target's own.
   */
  resilience: ResilienceConfig;
  /** What to do with a message that fails permanently or exhausts its retries. */
  onError: "dead_letter" | "fail";
  monitoring: MonitoringConfig;
}

export const DEFAULTS = Object.freeze({
  state: "sqlite:.junction/state.db",
  adminListen: "127.0.0.1:9464",
  shutdownTimeoutMs: 30_000,
  batching: Object.freeze({ count: 500, bytes: 4 * 1024 * 1024, periodMs: 1000 }),
  concurrency: 4,
  retry: Object.freeze({ attempts: 5, backoff: "exponential", baseDelayMs: 200, maxDelayMs: 30_000, jitter: "full" } as const),
  alertWindowMs: 60_000,
  deliveryRetentionMs: 30 * 86_400_000,
});

/** Defaults of the `resilience:` blocks beyond retry (see docs/configuration.md). */
export const RESILIENCE_DEFAULTS = Object.freeze({
  timeoutStrategy: "cooperative" as const,
  breaker: Object.freeze({
    failureThreshold: 5,
    /** A rate-based breaker without `window` judges the last 100 calls. */
    windowSize: 100,
    timeWindowBuckets: 10,
    minimumCalls: 20,
    /** A breaker made rate-based by `slow_call_rate` alone. */
    failureRate: 0.5,
    openDurationMs: 30_000,
    halfOpenMaxProbes: 1,
    successThreshold: 1,
  }),
  rateLimit: Object.freeze({ perMs: 1000, algorithm: "token_bucket" as const, wait: true }),
  bulkhead: Object.freeze({ maxQueue: 0 }),
  cache: Object.freeze({ maxEntries: 10_000 }),
});
