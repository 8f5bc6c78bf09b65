import { Redis } from "ioredis";
import type { CircuitBreakerConfig, RateLimitConfig, ResilienceConfig } from "../config/model.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import { bulkhead } from "./bulkhead.js";
import { circuitBreaker } from "./circuit-breaker.js";
import type { CircuitBreakerPolicy, CircuitState } from "./circuit-breaker.js";
import type { Disposable } from "./events.js";
import { instrumentPolicy } from "./instrument.js";
import { pipeline } from "./pipeline.js";
import type { PipelineMember } from "./pipeline.js";
import type { Policy } from "./policy.js";
import { noopPolicy } from "./policy.js";
import { rateLimit } from "./rate-limit.js";
import type { RateLimiter } from "./rate-limiter.js";
import { redisSlidingWindow } from "./redis-sliding-window.js";
import { redisTokenBucket } from "./redis-token-bucket.js";
import { slidingWindow } from "./sliding-window.js";
import { timeout } from "./timeout.js";
import { tokenBucket } from "./token-bucket.js";

/** The policies a `resilience:` block builds around one call (a sink write), outermost first. */
export interface CallPolicy {
  policy: Policy;
  breaker?: CircuitBreakerPolicy;
  /** Unsubscribes the metrics and closes any Redis client the policies opened. */
  dispose(): Promise<void>;
}

export interface CallPolicyOptions {
  /** Label of the breaker in metrics and logs, e.g. the integration name. */
  name: string;
  metrics?: JunctionMetrics;
  onStateChange?: (event: { from: CircuitState; to: CircuitState; reason: string }) => void;
}

/**
 * Builds circuit breaker → rate limit → bulkhead → timeout from a `resilience:` block.
 * Retries are not part of it: the engine retries per message, only the failed ones.
 */
export function buildCallPolicy(config: ResilienceConfig, options: CallPolicyOptions): CallPolicy {
  const members: PipelineMember[] = [];
  const subscriptions: Disposable[] = [];
  const clients: Redis[] = [];
  let breaker: CircuitBreakerPolicy | undefined;
  if (config.circuitBreaker) {
    breaker = breakerFrom(config.circuitBreaker);
    members.push(breaker);
    const onStateChange = options.onStateChange;
    if (onStateChange) subscriptions.push(breaker.onStateChange.on((event) => onStateChange(event)));
  }
  if (config.rateLimit) {
    const limiter = limiterFrom(config.rateLimit, options.name, clients);
    members.push(rateLimit(limiter, { wait: config.rateLimit.wait }));
  }
  if (config.bulkhead) {
    const { maxConcurrent, maxQueue, queueTimeoutMs } = config.bulkhead;
    members.push(bulkhead({ maxConcurrent, maxQueue, ...(queueTimeoutMs !== undefined ? { queueTimeoutMs } : {}) }));
  }
  if (config.timeoutMs > 0) members.push(timeout(config.timeoutMs, { strategy: config.timeoutStrategy }));
  const policy: Policy = members.length === 0 ? noopPolicy : (pipeline(...members) as unknown as Policy);
  if (options.metrics) subscriptions.push(instrumentPolicy(policy, options.metrics, options.name));
  return {
    policy,
    ...(breaker ? { breaker } : {}),
    async dispose() {
      for (const subscription of subscriptions) subscription.dispose();
      await Promise.allSettled(clients.map((client) => client.quit()));
    },
  };
}

function breakerFrom(config: CircuitBreakerConfig): CircuitBreakerPolicy {
  return circuitBreaker({
    window: config.window,
    openDurationMs: config.openDurationMs,
    halfOpen: { maxProbes: config.halfOpenMaxProbes, successThreshold: config.successThreshold },
  });
}

function limiterFrom(config: RateLimitConfig, name: string, clients: Redis[]): RateLimiter {
  const perSecond = (config.limit * 1000) / config.perMs;
  if (config.redisUrl === undefined) {
    return config.algorithm === "token_bucket"
      ? tokenBucket({ capacity: config.burst, refillPerSecond: perSecond })
      : slidingWindow({ limit: config.limit, windowMs: config.perMs });
  }
  const redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  clients.push(redis);
  const prefix = `junction:rate:${name}:`;
  return config.algorithm === "token_bucket"
    ? redisTokenBucket({ redis, prefix, capacity: config.burst, refillPerSecond: perSecond })
    : redisSlidingWindow({ redis, prefix, limit: config.limit, windowMs: config.perMs });
}
