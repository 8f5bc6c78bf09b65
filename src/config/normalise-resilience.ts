import { parseDuration } from "../core/duration.js";
import type { BreakerWindowConfig, BulkheadConfig, CacheConfig, CircuitBreakerConfig, RateLimitConfig, ResilienceConfig, RetryConfig } from "./model.js";
import { DEFAULTS, RESILIENCE_DEFAULTS } from "./model.js";
import { breakerWindowShape, mergeResilienceBlock, writtenTimeout } from "./resilience-layers.js";
import { isPlainMap } from "./validation/plain-map.js";

type Raw = Record<string, unknown>;

function map(value: unknown): Raw {
  return isPlainMap(value) ? value : {};
}

function ms(value: unknown, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

function int(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

/** The last value any layer writes, or undefined. */
function pick(layers: readonly Raw[], read: (layer: Raw) => unknown): unknown {
  let found: unknown;
  for (const layer of layers) {
    const value = read(layer);
    if (value !== undefined) found = value;
  }
  return found;
}

/**
 * `resilience:` blocks as written (target connection first, then the integration) as the
 * runtime model: later layers win key by key over earlier ones, which win over the defaults.
 * Only called on validated blocks.
 */
export function normaliseResilience(layers: readonly Raw[]): ResilienceConfig {
  const retryField = (key: string): unknown => pick(layers, (layer) => map(layer.retry)[key]);
  const retry: RetryConfig = {
    attempts: int(retryField("attempts"), DEFAULTS.retry.attempts),
    backoff: (retryField("backoff") as RetryConfig["backoff"] | undefined) ?? DEFAULTS.retry.backoff,
    baseDelayMs: ms(retryField("base_delay"), DEFAULTS.retry.baseDelayMs),
    maxDelayMs: ms(retryField("max_delay"), DEFAULTS.retry.maxDelayMs),
    jitter: (retryField("jitter") as RetryConfig["jitter"] | undefined) ?? DEFAULTS.retry.jitter,
  };
  const strategy = pick(layers, (layer) => writtenTimeout(layer).strategy);
  const config: ResilienceConfig = {
    retry,
    timeoutMs: ms(pick(layers, (layer) => writtenTimeout(layer).duration), 0),
    timeoutStrategy: strategy === "aggressive" ? "aggressive" : RESILIENCE_DEFAULTS.timeoutStrategy,
  };
  const breaker = mergeResilienceBlock(layers, "circuit_breaker");
  if (breaker) config.circuitBreaker = normaliseBreaker(breaker);
  const rateLimit = mergeResilienceBlock(layers, "rate_limit");
  if (rateLimit) config.rateLimit = normaliseRateLimit(rateLimit);
  const bulkhead = mergeResilienceBlock(layers, "bulkhead");
  if (bulkhead) config.bulkhead = normaliseBulkhead(bulkhead);
  const cache = mergeResilienceBlock(layers, "cache");
  if (cache) config.cache = normaliseCache(cache);
  return config;
}

function normaliseBreaker(raw: Raw): CircuitBreakerConfig {
  const defaults = RESILIENCE_DEFAULTS.breaker;
  return {
    window: normaliseBreakerWindow(raw),
    openDurationMs: ms(raw.reset_timeout, defaults.openDurationMs),
    halfOpenMaxProbes: int(raw.half_open_probes, defaults.halfOpenMaxProbes),
    successThreshold: int(raw.success_threshold, defaults.successThreshold),
  };
}

function normaliseBreakerWindow(raw: Raw): BreakerWindowConfig {
  const defaults = RESILIENCE_DEFAULTS.breaker;
  const rateBased = raw.failure_rate !== undefined || raw.slow_call_rate !== undefined;
  if (!rateBased) return { kind: "consecutive", failureThreshold: int(raw.failure_threshold, defaults.failureThreshold) };
  const rates: { failureRateThreshold: number; slowCallRateThreshold?: number; slowCallDurationMs?: number } = {
    failureRateThreshold: typeof raw.failure_rate === "number" ? raw.failure_rate : defaults.failureRate,
  };
  if (typeof raw.slow_call_rate === "number") rates.slowCallRateThreshold = raw.slow_call_rate;
  if (raw.slow_call_duration !== undefined) rates.slowCallDurationMs = ms(raw.slow_call_duration, 0);
  const shape = breakerWindowShape(raw.window) ?? { kind: "count", size: defaults.windowSize };
  if (shape.kind === "time") {
    return { kind: "time", windowMs: shape.windowMs, buckets: defaults.timeWindowBuckets, minimumCalls: int(raw.minimum_calls, defaults.minimumCalls), ...rates };
  }
  return { kind: "count", size: shape.size, minimumCalls: int(raw.minimum_calls, Math.min(defaults.minimumCalls, shape.size)), ...rates };
}

function normaliseRateLimit(raw: Raw): RateLimitConfig {
  const defaults = RESILIENCE_DEFAULTS.rateLimit;
  const limit = int(raw.limit, 1);
  const algorithm = raw.algorithm === "sliding_window" ? "sliding_window" : defaults.algorithm;
  const config: RateLimitConfig = {
    algorithm,
    limit,
    perMs: ms(raw.per, defaults.perMs),
    burst: algorithm === "token_bucket" ? int(raw.burst, limit) : limit,
    wait: typeof raw.wait === "boolean" ? raw.wait : defaults.wait,
  };
  if (typeof raw.redis === "string") config.redisUrl = raw.redis;
  return config;
}

function normaliseBulkhead(raw: Raw): BulkheadConfig {
  const config: BulkheadConfig = { maxConcurrent: int(raw.max_concurrent, 1), maxQueue: int(raw.max_queue, RESILIENCE_DEFAULTS.bulkhead.maxQueue) };
  if (raw.queue_timeout !== undefined) config.queueTimeoutMs = ms(raw.queue_timeout, 0);
  return config;
}

function normaliseCache(raw: Raw): CacheConfig {
  const config: CacheConfig = { ttlMs: ms(raw.ttl, 0), maxEntries: int(raw.max_entries, RESILIENCE_DEFAULTS.cache.maxEntries) };
  if (typeof raw.redis === "string") config.redisUrl = raw.redis;
  return config;
}
