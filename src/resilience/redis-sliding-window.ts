import type { RedisScriptClient } from "./redis-client.js";
import { RedisScript, scriptTriple } from "./redis-script.js";
import { requirePermits, requirePositive } from "./rate-limit-options.js";
import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";

export interface RedisSlidingWindowOptions {
  redis: RedisScriptClient;
  /** Prepended to every key as is, e.g. "myapp:ratelimit:". */
  prefix: string;
  limit: number;
  windowMs: number;
}

// The sliding-window counter of slidingWindow() (the same estimate and retry arithmetic,
// see slidingWindowRetryAfterMs) as one atomic script on the Redis server's clock. The hash
// holds the window index `w` and the counts `cur` and `prev`; after two idle windows it
// carries no information any more, so it expires then.
const SLIDING_WINDOW_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local eps = 1e-9
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local window = math.floor(now / windowMs)
local state = redis.call('HMGET', KEYS[1], 'w', 'cur', 'prev')
local w = tonumber(state[1])
local cur = tonumber(state[2]) or 0
local prev = tonumber(state[3]) or 0
if w == nil then
  cur = 0
  prev = 0
elseif w ~= window then
  if w == window - 1 then prev = cur else prev = 0 end
  cur = 0
end
local elapsed = now - window * windowMs
local estimate = prev * (windowMs - elapsed) / windowMs + cur
if estimate + permits <= limit + eps then
  cur = cur + permits
  redis.call('HSET', KEYS[1], 'w', string.format('%.17g', window), 'cur', string.format('%.17g', cur), 'prev', string.format('%.17g', prev))
  redis.call('PEXPIRE', KEYS[1], 2 * windowMs)
  return {1, math.max(0, math.floor(limit - estimate - permits + eps)), 0}
end
local wait
if cur + permits <= limit + eps then
  wait = windowMs - (limit - cur - permits) * windowMs / prev - elapsed
else
  wait = windowMs - elapsed + windowMs - (limit - permits) * windowMs / cur
end
return {0, math.max(0, math.floor(limit - estimate + eps)), math.max(1, math.ceil(wait - 1e-6))}
`;

const script = new RedisScript("sliding window", SLIDING_WINDOW_LUA);

/** A sliding-window counter per key kept in Redis, shared atomically by every process using the same prefix. */
export class RedisSlidingWindow implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #redis: RedisScriptClient;
  readonly #prefix: string;

  constructor(options: RedisSlidingWindowOptions) {
    requirePositive("redisSlidingWindow", "limit", options.limit);
    requirePositive("redisSlidingWindow", "windowMs", options.windowMs);
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#redis = options.redis;
    this.#prefix = options.prefix;
  }

  async tryAcquire(key: string = DEFAULT_RATE_LIMIT_KEY, permits = 1): Promise<RateDecision> {
    requirePermits("redisSlidingWindow", permits, this.limit);
    const reply = await script.run(this.#redis, [this.#prefix + key], [this.limit, this.windowMs, permits]);
    const [allowed, remaining, retryAfterMs] = scriptTriple("sliding window", reply);
    return { allowed: allowed === 1, remaining, retryAfterMs, limit: this.limit };
  }
}

export function redisSlidingWindow(options: RedisSlidingWindowOptions): RedisSlidingWindow {
  return new RedisSlidingWindow(options);
}
