// @needs-service redis
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { cache } from "../../src/resilience/cache.js";
import { redisCacheStore } from "../../src/resilience/redis-cache-store.js";
import { serviceSkipReason } from "../support/services.js";

const skip = await serviceSkipReason("redis");
const prefix = `junction-test:cache:${randomUUID()}:`;

describe("redisCacheStore", { skip }, () => {
  let redis: Redis;

  before(() => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 });
  });

  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  test("round-trips JSON values, null included, and deletes", async () => {
    const store = redisCacheStore({ redis, prefix });
    const value = { id: 7, tags: ["a", "b"], nested: { ok: true }, nothing: null };
    await store.set("obj", value, 60_000);
    assert.deepEqual(await store.get("obj"), { value });
    await store.set("null", null, 60_000);
    assert.deepEqual(await store.get("null"), { value: null });
    assert.equal(await store.get("missing"), undefined);
    await store.delete("obj");
    assert.equal(await store.get("obj"), undefined);
  });

  test("sets the TTL on the key and the entry is gone after it", async () => {
    const store = redisCacheStore({ redis, prefix });
    await store.set("long", 1, 60_000);
    const ttl = await redis.pttl(`${prefix}long`);
    assert.ok(ttl > 0 && ttl <= 60_000, `pttl ${ttl}`);
    await store.set("short", 1, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await store.get("short"), undefined);
  });

  test("the cache policy on Redis: concurrent executions share one call, later ones hit", async () => {
    const policy = cache({ store: redisCacheStore({ redis, prefix }), ttlMs: 60_000, key: () => "shared" });
    let calls = 0;
    const load = async (): Promise<{ n: number }> => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { n: calls };
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => policy.execute(load)));
    assert.ok(results.every((r) => r.n === 1));
    assert.deepEqual(await policy.execute(load), { n: 1 });
    assert.equal(calls, 1);
  });
});
