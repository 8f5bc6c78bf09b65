import type { RedisScriptClient } from "./redis-client.js";
import { RedisScript, scriptTriple } from "./redis-script.js";
import { requirePermits, requirePositive } from "./rate-limit-options.js";
import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";

export interface RedisTokenBucketOptions {
  redis: RedisScriptClient;
  /** Prepended to every key as is, e.g. "myapp:ratelimit:". */
  prefix: string;
  capacity: number;
  refillPerSecond: number;
}

// One round trip that reads, decides and writes atomically. Time comes from the Redis
// server, so the clocks of the processes sharing the bucket do not matter. The hash holds
// `tokens` and `at` (server time of the last refill, ms); it expires once the bucket would
// be full again, since a missing bucket is a full one.
const TOKEN_BUCKET_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local eps = 1e-9
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
elseif now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
  at = now
end
if tokens + eps >= permits then
  tokens = math.max(0, tokens - permits)
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1)
  return {1, math.floor(tokens + eps), 0}
end
return {0, math.floor(tokens + eps), math.max(1, math.ceil((permits - tokens) * 1000 / rate - 1e-6))}
`;

const script = new RedisScript("token bucket", TOKEN_BUCKET_LUA);

/** A token bucket per key kept in Redis, shared atomically by every process using the same prefix. */
export class RedisTokenBucket implements RateLimiter {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly #redis: RedisScriptClient;
  readonly #prefix: string;

  constructor(options: RedisTokenBucketOptions) {
    requirePositive("redisTokenBucket", "capacity", options.capacity);
    requirePositive("redisTokenBucket", "refillPerSecond", options.refillPerSecond);
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.#redis = options.redis;
    this.#prefix = options.prefix;
  }

  async tryAcquire(key: string = DEFAULT_RATE_LIMIT_KEY, permits = 1): Promise<RateDecision> {
    requirePermits("redisTokenBucket", permits, this.capacity);
    const reply = await script.run(this.#redis, [this.#prefix + key], [this.capacity, this.refillPerSecond, permits]);
    const [allowed, remaining, retryAfterMs] = scriptTriple("token bucket", reply);
    return { allowed: allowed === 1, remaining, retryAfterMs, limit: this.capacity };
  }
}

export function redisTokenBucket(options: RedisTokenBucketOptions): RedisTokenBucket {
  return new RedisTokenBucket(options);
}
