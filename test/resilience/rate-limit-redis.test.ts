// @needs-service redis
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { JunctionError } from "../../src/core/errors.js";
import { redisSlidingWindow } from "../../src/resilience/redis-sliding-window.js";
import { RedisScript } from "../../src/resilience/redis-script.js";
import { redisTokenBucket } from "../../src/resilience/redis-token-bucket.js";
import { serviceSkipReason } from "../support/services.js";

const skip = await serviceSkipReason("redis");
const prefix = `junction-test:rl:${randomUUID()}:`;

describe("Redis rate limiters", { skip }, () => {
  let redis: Redis;

  before(() => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: false, maxRetriesPerRequest: 1 });
  });

  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  test("token bucket: burst of capacity, then a rejection with a wait of about one token", async () => {
    const bucket = redisTokenBucket({ redis, prefix: `${prefix}tb:`, capacity: 5, refillPerSecond: 1 });
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await bucket.tryAcquire("k"));
    assert.deepEqual(
      decisions.slice(0, 5).map((d) => [d.allowed, d.remaining, d.retryAfterMs, d.limit]),
      [4, 3, 2, 1, 0].map((remaining) => [true, remaining, 0, 5]),
    );
    const rejected = decisions[5];
    assert.equal(rejected?.allowed, false);
    assert.equal(rejected?.remaining, 0);
    assert.ok(rejected !== undefined && rejected.retryAfterMs > 0 && rejected.retryAfterMs <= 1000, `retryAfterMs ${rejected?.retryAfterMs}`);
    const ttl = await redis.pttl(`${prefix}tb:k`);
    assert.ok(ttl > 0 && ttl <= 5001, `the bucket expires once it would be full again (pttl ${ttl})`);
  });

  test("token bucket: keys are isolated and asking above capacity is a configuration error", async () => {
    const bucket = redisTokenBucket({ redis, prefix: `${prefix}tb2:`, capacity: 2, refillPerSecond: 1 });
    assert.equal((await bucket.tryAcquire("a", 2)).allowed, true);
    assert.equal((await bucket.tryAcquire("a")).allowed, false);
    assert.deepEqual(await bucket.tryAcquire("b"), { allowed: true, remaining: 1, retryAfterMs: 0, limit: 2 });
    await assert.rejects(bucket.tryAcquire("b", 3), (error: unknown) => error instanceof JunctionError && error.kind === "config");
  });

  test("sliding window: `limit` per window, then a rejection with a wait within two windows", async () => {
    const window = redisSlidingWindow({ redis, prefix: `${prefix}sw:`, limit: 3, windowMs: 60_000 });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await window.tryAcquire("k"));
    assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, false]);
    assert.deepEqual(decisions.slice(0, 3).map((d) => d.remaining), [2, 1, 0]);
    const rejected = decisions[3];
    assert.ok(rejected !== undefined && rejected.retryAfterMs > 0 && rejected.retryAfterMs <= 120_000, `retryAfterMs ${rejected?.retryAfterMs}`);
    assert.equal((await window.tryAcquire("other")).allowed, true, "keys are isolated");
    const ttl = await redis.pttl(`${prefix}sw:k`);
    assert.ok(ttl > 0 && ttl <= 120_000, `pttl ${ttl}`);
  });

  test("concurrent acquisitions from one process never exceed the limit", async () => {
    const window = redisSlidingWindow({ redis, prefix: `${prefix}sw2:`, limit: 50, windowMs: 60_000 });
    const bucket = redisTokenBucket({ redis, prefix: `${prefix}tb3:`, capacity: 50, refillPerSecond: 0.001 });
    const [windowDecisions, bucketDecisions] = await Promise.all([
      Promise.all(Array.from({ length: 200 }, () => window.tryAcquire("k"))),
      Promise.all(Array.from({ length: 200 }, () => bucket.tryAcquire("k"))),
    ]);
    assert.equal(windowDecisions.filter((d) => d.allowed).length, 50);
    assert.equal(bucketDecisions.filter((d) => d.allowed).length, 50);
  });

  test("a script unknown to the server runs through the EVAL fallback, then by SHA", async () => {
    const script = new RedisScript("probe", `-- ${randomUUID()}\nreturn tonumber(ARGV[1]) + 1`);
    assert.equal(await script.run(redis, [], [41]), 42);
    assert.deepEqual(await redis.script("EXISTS", script.sha1), [1]);
    assert.equal(await script.run(redis, [], [1]), 2);
  });
});
