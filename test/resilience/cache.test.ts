import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cache } from "../../src/resilience/cache.js";
import type { CacheHit, CacheStore } from "../../src/resilience/cache-store.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { memoryCacheStore } from "../../src/resilience/memory-cache-store.js";

describe("memoryCacheStore", () => {
  test("entries expire after their TTL on the clock", async () => {
    const clock = new FakeClock();
    const store = memoryCacheStore({ maxEntries: 10, clock });
    await store.set("k", { n: 1 }, 1000);
    await clock.advance(999);
    assert.deepEqual(await store.get("k"), { value: { n: 1 }, expiresAt: 1000 });
    await clock.advance(1);
    assert.equal(await store.get("k"), undefined);
    assert.equal(store.size, 0, "an expired entry is dropped when read");
  });

  test("evicts the least recently used entry beyond maxEntries; reads count as use", async () => {
    const clock = new FakeClock();
    const store = memoryCacheStore({ maxEntries: 2, clock });
    await store.set("a", 1, 1000);
    await store.set("b", 2, 1000);
    assert.equal((await store.get("a"))?.value, 1);
    await store.set("c", 3, 1000);
    assert.equal(store.size, 2);
    assert.equal(await store.get("b"), undefined);
    assert.equal((await store.get("a"))?.value, 1);
    assert.equal((await store.get("c"))?.value, 3);
  });

  test("null and false are values, not misses; delete removes", async () => {
    const store = memoryCacheStore({ maxEntries: 10, clock: new FakeClock() });
    await store.set("n", null, 1000);
    await store.set("f", false, 1000);
    assert.equal((await store.get("n"))?.value, null);
    assert.equal((await store.get("f"))?.value, false);
    await store.delete("n");
    assert.equal(await store.get("n"), undefined);
  });
});

describe("cache policy", () => {
  test("hits within the TTL, misses after it", async () => {
    const clock = new FakeClock();
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock }), ttlMs: 1000, key: () => "user:1" });
    const events: string[] = [];
    policy.onHit.on((e) => events.push(`hit ${e.key}`));
    policy.onMiss.on((e) => events.push(`miss ${e.key}`));
    let calls = 0;
    const load = (): number => ++calls;
    assert.equal(await policy.execute(load), 1);
    assert.equal(await policy.execute(load), 1);
    await clock.advance(1000);
    assert.equal(await policy.execute(load), 2);
    assert.deepEqual(events, ["miss user:1", "hit user:1", "miss user:1"]);
  });

  test("100 concurrent executions of one key share one call", async () => {
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock: new FakeClock() }), ttlMs: 1000, key: () => "k" });
    let calls = 0;
    let release!: (value: string) => void;
    const gate = new Promise<string>((resolve) => (release = resolve));
    const load = (): Promise<string> => {
      calls++;
      return gate;
    };
    const results = Array.from({ length: 100 }, (_, i) => policy.execute(load, i % 2 === 0 ? new AbortController().signal : undefined));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(policy.inFlight, 1);
    release("v");
    assert.deepEqual(await Promise.all(results), Array.from({ length: 100 }, () => "v"));
    assert.equal(calls, 1);
    assert.equal(policy.inFlight, 0);
  });

  test("different keys do not share a call", async () => {
    let key = "a";
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock: new FakeClock() }), ttlMs: 1000, key: () => key });
    const first = policy.execute(() => "A");
    key = "b";
    const second = policy.execute(() => "B");
    assert.deepEqual(await Promise.all([first, second]), ["A", "B"]);
  });

  test("a failure reaches every waiter and is not cached", async () => {
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock: new FakeClock() }), ttlMs: 1000, key: () => "k" });
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls++;
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error("upstream down");
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => policy.execute(failing)));
    assert.equal(calls, 1);
    assert.ok(outcomes.every((o) => o.status === "rejected" && (o.reason as Error).message === "upstream down"));
    assert.equal(await policy.execute(() => "recovered"), "recovered");
    assert.equal(await policy.execute(() => "not called"), "recovered");
  });

  test("one waiter aborting leaves the shared call running for the others", async () => {
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock: new FakeClock() }), ttlMs: 1000, key: () => "k" });
    let release!: (value: string) => void;
    let innerSignal: AbortSignal | undefined;
    const load = ({ signal }: { signal: AbortSignal }): Promise<string> => {
      innerSignal = signal;
      return new Promise((resolve) => (release = resolve));
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = policy.execute(load, a.signal);
    const second = policy.execute(load, b.signal);
    await new Promise((resolve) => setImmediate(resolve));
    a.abort();
    await assert.rejects(first, { name: "AbortError" });
    assert.equal(innerSignal?.aborted, false);
    release("v");
    assert.equal(await second, "v");
    assert.equal(await policy.execute(() => "unused"), "v", "the shared result was cached");
  });

  test("when every waiter aborts the call's signal aborts and a new execution starts afresh", async () => {
    const policy = cache({ store: memoryCacheStore({ maxEntries: 10, clock: new FakeClock() }), ttlMs: 1000, key: () => "k" });
    let innerSignal: AbortSignal | undefined;
    const controller = new AbortController();
    const stuck = policy.execute(({ signal }) => {
      innerSignal = signal;
      return new Promise<string>((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true }));
    }, controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await assert.rejects(stuck, { name: "AbortError" });
    assert.equal(innerSignal?.aborted, true);
    assert.equal(policy.inFlight, 0);
    assert.equal(await policy.execute(() => "fresh"), "fresh");
  });

  test("a failing store is treated as a miss and reported", async () => {
    const broken: CacheStore = {
      get: (): Promise<CacheHit | undefined> => Promise.reject(new Error("store down")),
      set: (): Promise<void> => Promise.reject(new Error("store down")),
      delete: (): Promise<void> => Promise.resolve(),
    };
    const policy = cache({ store: broken, ttlMs: 1000, key: () => "k" });
    const errors: string[] = [];
    policy.onStoreError.on((e) => errors.push(e.operation));
    assert.equal(await policy.execute(() => 42), 42);
    assert.deepEqual(errors, ["get", "set"]);
  });
});
