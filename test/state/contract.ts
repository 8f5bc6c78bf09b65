import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { JunctionError } from "../../src/core/errors.js";
import type { StoredMessage } from "../../src/core/message.js";
import type { NewDeadLetter, StateStore } from "../../src/state/types.js";

/**
 * The behaviour every StateStore must have. `open` returns a new, independent store on
 * the same underlying database each time it is called (two calls = two instances), so
 * the suite can test reopening and races between instances. Tests share the database,
 * so each one works with its own unique names. `skip` (a reason) skips the whole suite.
 */
export function runStateStoreContract(name: string, open: () => Promise<StateStore>, options: { skip?: string | false } = {}): void {
  describe(`StateStore contract: ${name}`, { skip: options.skip ?? false }, () => {
    let store: StateStore;

    before(async () => {
      store = await open();
      await store.migrate();
    });

    after(async () => {
      await store.close();
    });

    async function withSecondStore(work: (other: StateStore) => Promise<void>): Promise<void> {
      const other = await open();
      try {
        await other.migrate();
        await work(other);
      } finally {
        await other.close();
      }
    }

    describe("migrations", () => {
      test("applied versions start at 1, ascend, and migrate() again changes nothing", async () => {
        const first = await store.appliedMigrations();
        assert.equal(first[0], 1);
        assert.deepEqual(
          first,
          [...first].sort((a, b) => a - b),
        );
        assert.equal(new Set(first).size, first.length);
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.appliedMigrations(), first);
      });

      test("several instances migrating at once is harmless", async () => {
        const before = await store.appliedMigrations();
        const others = await Promise.all([open(), open(), open()]);
        try {
          await Promise.all([store.migrate(), ...others.map((other) => other.migrate())]);
          for (const other of others) assert.deepEqual(await other.appliedMigrations(), before);
        } finally {
          await Promise.all(others.map((other) => other.close()));
        }
      });

      test("data survives closing and reopening", async () => {
        const scope = unique("reopen");
        const first = await open();
        await first.migrate();
        await first.setCheckpoint(scope, { offset: 41 });
        await first.close();
        const second = await open();
        try {
          await second.migrate();
          assert.deepEqual((await second.getCheckpoint(scope))?.value, { offset: 41 });
        } finally {
          await second.close();
        }
      });

      test("kind and location are set and location carries no password", () => {
        assert.ok(store.kind === "sqlite" || store.kind === "postgres");
        assert.equal(typeof store.location, "string");
        assert.ok(store.location.length > 0);
        assert.doesNotMatch(store.location, /:[^/@:]+@/);
      });
    });

    describe("checkpoints", () => {
      test("a missing scope has no checkpoint", async () => {
        assert.equal(await store.getCheckpoint(unique("missing")), undefined);
      });

      test("JSON values round-trip exactly", async () => {
        const values: unknown[] = [
          { cursor: "2024-01-01T00:00:00.000Z", ids: [1, 2, 3], nested: { deep: { deeper: [null, true, false, "x"] } } },
          "plain string",
          "unicode: héllo wörld 日本語 🚀 \u00e9\u0301",
          "control and escapes: \u0000 \n \t \" \\ </script>",
          0,
          -1.5,
          123456789.125,
          Number.MAX_SAFE_INTEGER,
          1e21,
          5e-324,
          null,
          true,
          [],
          {},
          { "key with spaces": 1, "ключ": "значение", "": "empty key" },
        ];
        for (const [index, value] of values.entries()) {
          const scope = unique(`json-${index}`);
          await store.setCheckpoint(scope, value);
          const checkpoint = await store.getCheckpoint(scope);
          assert.ok(checkpoint, `checkpoint ${index} was stored`);
          assert.deepEqual(checkpoint.value, value, `value ${index} round-trips`);
          assert.equal(checkpoint.scope, scope);
          assert.ok(checkpoint.updatedAt instanceof Date);
        }
      });

      test("object key order is kept", async () => {
        const scope = unique("order");
        await store.setCheckpoint(scope, { zebra: 1, apple: 2, mango: { b: 1, a: 2 } });
        const value = (await store.getCheckpoint(scope))?.value as Record<string, unknown>;
        assert.deepEqual(Object.keys(value), ["zebra", "apple", "mango"]);
        assert.deepEqual(Object.keys(value.mango as object), ["b", "a"]);
      });

      test("setting again replaces the value of that scope only", async () => {
        const scope = unique("upsert");
        const other = unique("upsert-other");
        await store.setCheckpoint(scope, { offset: 1 });
        await store.setCheckpoint(other, { offset: 100 });
        const first = await store.getCheckpoint(scope);
        await store.setCheckpoint(scope, { offset: 2 });
        const second = await store.getCheckpoint(scope);
        assert.deepEqual(second?.value, { offset: 2 });
        assert.ok(first && second && second.updatedAt.getTime() >= first.updatedAt.getTime());
        assert.deepEqual((await store.getCheckpoint(other))?.value, { offset: 100 });
      });

      test("updatedAt is the current UTC instant", async () => {
        const scope = unique("time");
        const before = Date.now();
        await store.setCheckpoint(scope, 1);
        const after = Date.now();
        const updatedAt = (await store.getCheckpoint(scope))?.updatedAt.getTime() ?? 0;
        // Allow for the database clock being used (PostgreSQL) and millisecond truncation.
        assert.ok(updatedAt >= before - 1000 && updatedAt <= after + 1000, `updatedAt ${updatedAt} near ${before}..${after}`);
      });

      test("delete reports whether something was deleted", async () => {
        const scope = unique("delete");
        await store.setCheckpoint(scope, "x");
        assert.equal(await store.deleteCheckpoint(scope), true);
        assert.equal(await store.getCheckpoint(scope), undefined);
        assert.equal(await store.deleteCheckpoint(scope), false);
      });

      test("list returns every checkpoint ordered by scope", async () => {
        const prefix = unique("list");
        const scopes = [`${prefix}-b`, `${prefix}-B`, `${prefix}-a`, `${prefix}-c`];
        for (const [index, scope] of scopes.entries()) await store.setCheckpoint(scope, { index });
        const listed = await store.listCheckpoints();
        const listedScopes = listed.map((checkpoint) => checkpoint.scope);
        assert.deepEqual(
          listedScopes,
          [...listedScopes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        );
        assert.deepEqual(
          listedScopes.filter((scope) => scope.startsWith(prefix)),
          [`${prefix}-B`, `${prefix}-a`, `${prefix}-b`, `${prefix}-c`],
        );
        assert.deepEqual(listed.find((checkpoint) => checkpoint.scope === `${prefix}-c`)?.value, { index: 3 });
      });
    });

    describe("dead letters", () => {
      test("add returns the stored record and get returns the same", async () => {
        const input = deadLetterInput(unique("dl-add"));
        const added = await store.addDeadLetter(input);
        assert.equal(typeof added.id, "string");
        assert.equal(added.status, "pending");
        assert.equal(added.replayAttempts, 0);
        assert.ok(added.createdAt instanceof Date);
        assert.equal("replayedAt" in added, false);
        assert.equal("lastReplayError" in added, false);
        assert.deepEqual(
          { integration: added.integration, stage: added.stage, message: added.message, error: added.error, attempts: added.attempts },
          input,
        );
        assert.deepEqual(await store.getDeadLetter(added.id), added);
      });

      test("an unknown id has no dead letter", async () => {
        assert.equal(await store.getDeadLetter("does-not-exist"), undefined);
      });

      test("list is newest first and ids sort by creation", async () => {
        const integration = unique("dl-order");
        const added = [];
        for (let index = 0; index < 5; index++) added.push(await store.addDeadLetter(deadLetterInput(integration, { n: index })));
        const listed = await store.listDeadLetters({ integration });
        assert.deepEqual(
          listed.map((deadLetter) => deadLetter.id),
          added.map((deadLetter) => deadLetter.id).reverse(),
        );
        assert.deepEqual(
          listed.map((deadLetter) => deadLetter.id),
          listed.map((deadLetter) => deadLetter.id).sort().reverse(),
        );
      });

      test("filters by integration, status, ids, before, limit and offset", async () => {
        const integration = unique("dl-filter");
        const other = unique("dl-filter-other");
        const first = await store.addDeadLetter(deadLetterInput(integration, { n: 1 }));
        await sleep(5);
        const second = await store.addDeadLetter(deadLetterInput(integration, { n: 2 }));
        await sleep(5);
        const third = await store.addDeadLetter(deadLetterInput(integration, { n: 3 }));
        const foreign = await store.addDeadLetter(deadLetterInput(other, { n: 4 }));
        await store.markDeadLetterReplayed(second.id);

        const ids = (list: { id: string }[]): string[] => list.map((deadLetter) => deadLetter.id);
        assert.deepEqual(ids(await store.listDeadLetters({ integration })), [third.id, second.id, first.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, status: "pending" })), [third.id, first.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, status: "replayed" })), [second.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ ids: [first.id, foreign.id] })), [foreign.id, first.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ ids: [] })), []);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, limit: 2 })), [third.id, second.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, limit: 2, offset: 1 })), [second.id, first.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, offset: 2 })), [first.id]);
        assert.deepEqual(ids(await store.listDeadLetters({ integration, limit: 0 })), []);

        const all = [first, second, third];
        const before = second.createdAt;
        const expectedBefore = all.filter((deadLetter) => deadLetter.createdAt.getTime() < before.getTime()).reverse();
        assert.ok(expectedBefore.length >= 1, "the first dead letter is older than the second");
        assert.deepEqual(ids(await store.listDeadLetters({ integration, before })), ids(expectedBefore));

        assert.equal(await store.countDeadLetters({ integration }), 3);
        assert.equal(await store.countDeadLetters({ integration, status: "pending" }), 2);
        assert.equal(await store.countDeadLetters({ integration, before }), expectedBefore.length);
        assert.equal(await store.countDeadLetters({ ids: [first.id, foreign.id, "nope"] }), 2);
        assert.ok((await store.countDeadLetters()) >= 4);
      });

      test("the message and error round-trip exactly", async () => {
        const message: StoredMessage = {
          id: "msg-ü-1",
          payload: { order: { id: 42, lines: [{ sku: "A-1", qty: 2, price: 9.99 }], note: "naïve café ☕", empty: null } },
          headers: { "content-type": "application/json", "x-correlation-id": "corr-1" },
          metadata: { source: "orders", position: { offset: 17 } },
          correlationId: "corr-1",
          key: "order-42",
        };
        const error = { kind: "permanent", message: "price must be > 0 — got \"0\"", code: "transform.map_failed", context: { field: "price", value: 0 } };
        const added = await store.addDeadLetter({ integration: unique("dl-json"), message, stage: "transform", error, attempts: 3 });
        const stored = await store.getDeadLetter(added.id);
        assert.deepEqual(stored?.message, message);
        assert.deepEqual(stored?.error, error);
        assert.equal(stored?.attempts, 3);
        assert.equal(stored?.stage, "transform");
      });

      test("a successful replay marks it replayed", async () => {
        const added = await store.addDeadLetter(deadLetterInput(unique("dl-replay")));
        await store.markDeadLetterReplayed(added.id);
        const replayed = await store.getDeadLetter(added.id);
        assert.equal(replayed?.status, "replayed");
        assert.ok(replayed?.replayedAt instanceof Date);
        assert.ok(replayed.replayedAt.getTime() >= added.createdAt.getTime() - 1000);
      });

      test("a failed replay counts the attempt and keeps it pending", async () => {
        const added = await store.addDeadLetter(deadLetterInput(unique("dl-fail")));
        await store.recordDeadLetterReplayFailure(added.id, "first failure");
        await store.recordDeadLetterReplayFailure(added.id, "second failure: 503 Service Unavailable");
        const failed = await store.getDeadLetter(added.id);
        assert.equal(failed?.status, "pending");
        assert.equal(failed?.replayAttempts, 2);
        assert.equal(failed?.lastReplayError, "second failure: 503 Service Unavailable");
        assert.equal(failed?.replayedAt, undefined);
      });

      test("replay bookkeeping on an unknown id is an error", async () => {
        await assert.rejects(store.markDeadLetterReplayed("no-such-dead-letter"), (error: unknown) => error instanceof JunctionError && /does not exist/.test(error.message));
        await assert.rejects(store.recordDeadLetterReplayFailure("no-such-dead-letter", "x"), JunctionError);
      });

      test("purge removes what the filter matches and returns the count", async () => {
        const integration = unique("dl-purge");
        const keep = unique("dl-keep");
        const a = await store.addDeadLetter(deadLetterInput(integration));
        const b = await store.addDeadLetter(deadLetterInput(integration));
        const c = await store.addDeadLetter(deadLetterInput(integration));
        const kept = await store.addDeadLetter(deadLetterInput(keep));
        await store.markDeadLetterReplayed(b.id);

        assert.equal(await store.purgeDeadLetters({ ids: [] }), 0);
        assert.equal(await store.purgeDeadLetters({ integration, status: "replayed" }), 1);
        assert.equal(await store.getDeadLetter(b.id), undefined);
        assert.equal(await store.purgeDeadLetters({ integration, limit: 1 }), 1);
        assert.equal(await store.getDeadLetter(c.id), undefined, "the newest one went first");
        assert.equal(await store.purgeDeadLetters({ ids: [a.id] }), 1);
        assert.equal(await store.countDeadLetters({ integration }), 0);
        assert.equal(await store.purgeDeadLetters({ integration }), 0);
        assert.deepEqual(await store.getDeadLetter(kept.id), kept);
      });

      test("purge without a filter removes everything", async () => {
        await store.addDeadLetter(deadLetterInput(unique("dl-all")));
        await store.addDeadLetter(deadLetterInput(unique("dl-all")));
        const total = await store.countDeadLetters();
        assert.ok(total >= 2);
        assert.equal(await store.purgeDeadLetters(), total);
        assert.equal(await store.countDeadLetters(), 0);
        assert.deepEqual(await store.listDeadLetters(), []);
      });

      test("a negative or fractional limit is rejected", async () => {
        await assert.rejects(store.listDeadLetters({ limit: -1 }), JunctionError);
        await assert.rejects(store.listDeadLetters({ offset: 1.5 }), JunctionError);
      });
    });

    describe("idempotency keys", () => {
      test("only the first claim of an unexpired key succeeds", async () => {
        const scope = unique("idem");
        assert.equal(await store.claimIdempotencyKey(scope, "k1", 60_000), true);
        assert.equal(await store.claimIdempotencyKey(scope, "k1", 60_000), false);
        assert.equal(await store.claimIdempotencyKey(scope, "k2", 60_000), true, "another key is independent");
        assert.equal(await store.claimIdempotencyKey(unique("idem-other"), "k1", 60_000), true, "another scope is independent");
      });

      test("the record has its times and the result", async () => {
        const scope = unique("idem-record");
        const result = { status: 201, body: { id: "ü-1", tags: ["a", "b"] }, none: null };
        assert.equal(await store.claimIdempotencyKey(scope, "with-result", 60_000, result), true);
        const record = await store.getIdempotencyKey(scope, "with-result");
        assert.ok(record);
        assert.equal(record.scope, scope);
        assert.equal(record.key, "with-result");
        assert.ok(record.createdAt instanceof Date && record.expiresAt instanceof Date);
        assert.ok(Math.abs(record.expiresAt.getTime() - record.createdAt.getTime() - 60_000) <= 1);
        assert.deepEqual(record.result, result);

        assert.equal(await store.claimIdempotencyKey(scope, "no-result", 60_000), true);
        const bare = await store.getIdempotencyKey(scope, "no-result");
        assert.equal(bare !== undefined && "result" in bare, false);

        assert.equal(await store.claimIdempotencyKey(scope, "null-result", 60_000, null), true);
        assert.equal((await store.getIdempotencyKey(scope, "null-result"))?.result, null);
        assert.equal(await store.getIdempotencyKey(scope, "never-claimed"), undefined);
      });

      test("a released key can be claimed again", async () => {
        const scope = unique("idem-release");
        assert.equal(await store.claimIdempotencyKey(scope, "k", 60_000), true);
        await store.releaseIdempotencyKey(scope, "k");
        assert.equal(await store.getIdempotencyKey(scope, "k"), undefined);
        assert.equal(await store.claimIdempotencyKey(scope, "k", 60_000), true);
        await store.releaseIdempotencyKey(scope, "never-claimed");
      });

      test("an expired key can be claimed again and is no longer reported", async () => {
        const scope = unique("idem-expire");
        assert.equal(await store.claimIdempotencyKey(scope, "k", 1, "first"), true);
        await sleep(20);
        assert.equal(await store.getIdempotencyKey(scope, "k"), undefined);
        assert.equal(await store.claimIdempotencyKey(scope, "k", 60_000, "second"), true);
        assert.equal(await store.claimIdempotencyKey(scope, "k", 60_000, "third"), false);
        assert.equal((await store.getIdempotencyKey(scope, "k"))?.result, "second");
      });

      test("prune removes expired keys only", async () => {
        const scope = unique("idem-prune");
        await store.claimIdempotencyKey(scope, "old-1", 1);
        await store.claimIdempotencyKey(scope, "old-2", 1);
        await store.claimIdempotencyKey(scope, "live", 60_000);
        await sleep(20);
        const now = new Date();
        assert.ok((await store.pruneIdempotencyKeys(now)) >= 2);
        assert.equal(await store.pruneIdempotencyKeys(now), 0);
        assert.ok(await store.getIdempotencyKey(scope, "live"));
        assert.equal(await store.claimIdempotencyKey(scope, "live", 60_000), false);
        assert.ok((await store.pruneIdempotencyKeys()) >= 0);
        assert.ok((await store.pruneIdempotencyKeys(new Date(Date.now() + 120_000))) >= 1, "a future instant prunes the live key");
        assert.equal(await store.getIdempotencyKey(scope, "live"), undefined);
      });

      test("50 concurrent claims of one key: exactly one wins", async () => {
        const scope = unique("idem-race");
        const claims = await Promise.all(Array.from({ length: 50 }, (_, index) => store.claimIdempotencyKey(scope, "contested", 60_000, { claimer: index })));
        assert.equal(claims.filter(Boolean).length, 1);
        const winner = claims.indexOf(true);
        assert.deepEqual((await store.getIdempotencyKey(scope, "contested"))?.result, { claimer: winner });
      });

      test("concurrent claims from two instances: exactly one wins per key", async () => {
        await withSecondStore(async (other) => {
          const scope = unique("idem-instances");
          for (let round = 0; round < 5; round++) {
            const key = `key-${round}`;
            const claims = await Promise.all(
              Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? store : other).claimIdempotencyKey(scope, key, 60_000)),
            );
            assert.equal(claims.filter(Boolean).length, 1, `round ${round}`);
          }
        });
      });

      test("a negative TTL is rejected", async () => {
        await assert.rejects(store.claimIdempotencyKey(unique("idem-ttl"), "k", -5), JunctionError);
      });
    });

    describe("runs", () => {
      test("startRun records a running run with zero counts", async () => {
        const integration = unique("run-start");
        const run = await store.startRun({ integration, trigger: "schedule" });
        assert.equal(run.integration, integration);
        assert.equal(run.trigger, "schedule");
        assert.equal(run.status, "running");
        assert.deepEqual(run.counts, { read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 });
        assert.ok(run.startedAt instanceof Date);
        assert.equal("finishedAt" in run, false);
        assert.equal("error" in run, false);
        assert.deepEqual(await store.getRun(run.id), run);
        assert.equal(await store.getRun("no-such-run"), undefined);
      });

      test("updateRun adds to the counters", async () => {
        const run = await store.startRun({ integration: unique("run-update"), trigger: "manual" });
        await store.updateRun(run.id, { read: 5 });
        await store.updateRun(run.id, { read: 3, written: 2, filtered: 1 });
        await store.updateRun(run.id, { deadLettered: 1, retried: 4 });
        await store.updateRun(run.id, {});
        assert.deepEqual((await store.getRun(run.id))?.counts, { read: 8, written: 2, filtered: 1, deadLettered: 1, retried: 4 });
      });

      test("concurrent updates from two instances all count", async () => {
        const run = await store.startRun({ integration: unique("run-race"), trigger: "manual" });
        await withSecondStore(async (other) => {
          await Promise.all(Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? store : other).updateRun(run.id, { read: 1, written: 2 })));
        });
        const counts = (await store.getRun(run.id))?.counts;
        assert.equal(counts?.read, 40);
        assert.equal(counts?.written, 80);
      });

      test("finishRun sets status, final counts, finishedAt and error", async () => {
        const failed = await store.startRun({ integration: unique("run-finish"), trigger: "webhook" });
        await store.updateRun(failed.id, { read: 100 });
        await store.finishRun(failed.id, { status: "failed", counts: { read: 10, written: 7, filtered: 1, deadLettered: 2, retried: 3 }, error: "sink rejected the batch" });
        const finished = await store.getRun(failed.id);
        assert.equal(finished?.status, "failed");
        assert.deepEqual(finished?.counts, { read: 10, written: 7, filtered: 1, deadLettered: 2, retried: 3 });
        assert.ok(finished?.finishedAt instanceof Date);
        assert.ok(finished.finishedAt.getTime() >= finished.startedAt.getTime() - 1000);
        assert.equal(finished.error, "sink rejected the batch");

        const ok = await store.startRun({ integration: unique("run-finish-ok"), trigger: "manual" });
        await store.finishRun(ok.id, { status: "succeeded", counts: { read: 1, written: 1, filtered: 0, deadLettered: 0, retried: 0 } });
        const succeeded = await store.getRun(ok.id);
        assert.equal(succeeded?.status, "succeeded");
        assert.equal("error" in (succeeded ?? {}), false);
      });

      test("updates on a finished run do not change its final counts", async () => {
        const run = await store.startRun({ integration: unique("run-late"), trigger: "manual" });
        await store.finishRun(run.id, { status: "partial", counts: { read: 5, written: 4, filtered: 0, deadLettered: 1, retried: 0 } });
        await store.updateRun(run.id, { read: 1 });
        assert.equal((await store.getRun(run.id))?.counts.read, 5);
      });

      test("updating or finishing an unknown run is an error", async () => {
        await assert.rejects(store.updateRun("no-such-run", { read: 1 }), JunctionError);
        await assert.rejects(store.finishRun("no-such-run", { status: "interrupted", counts: { read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 } }), JunctionError);
      });

      test("listRuns is newest first and filters by integration, status and limit", async () => {
        const integration = unique("run-list");
        const runs = [];
        for (let index = 0; index < 4; index++) runs.push(await store.startRun({ integration, trigger: `t${index}` }));
        await store.startRun({ integration: unique("run-list-other"), trigger: "x" });
        const zero = { read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 };
        await store.finishRun(runs[0]!.id, { status: "succeeded", counts: zero });
        await store.finishRun(runs[2]!.id, { status: "succeeded", counts: zero });

        const ids = (list: { id: string }[]): string[] => list.map((run) => run.id);
        assert.deepEqual(ids(await store.listRuns({ integration })), ids([...runs].reverse()));
        assert.deepEqual(ids(await store.listRuns({ integration, status: "succeeded" })), [runs[2]!.id, runs[0]!.id]);
        assert.deepEqual(ids(await store.listRuns({ integration, status: "running" })), [runs[3]!.id, runs[1]!.id]);
        assert.deepEqual(ids(await store.listRuns({ integration, limit: 2 })), [runs[3]!.id, runs[2]!.id]);
        const everything = await store.listRuns();
        assert.ok(everything.length >= 5);
        assert.deepEqual(ids(everything), ids(everything).sort().reverse());
        assert.ok((await store.listRuns({ status: "succeeded" })).every((run) => run.status === "succeeded"));
      });
    });

    describe("leases", () => {
      test("a free lease is acquired; another holder waits; the holder renews", async () => {
        const name = unique("lease");
        assert.equal(await store.acquireLease(name, "instance-a", 60_000), true);
        const first = await store.getLease(name);
        assert.equal(first?.holder, "instance-a");
        assert.equal(first?.name, name);
        assert.ok(first?.expiresAt instanceof Date);
        assert.equal(await store.acquireLease(name, "instance-b", 60_000), false);
        assert.equal((await store.getLease(name))?.holder, "instance-a");
        assert.equal(await store.acquireLease(name, "instance-a", 120_000), true);
        const renewed = await store.getLease(name);
        assert.ok(renewed && renewed.expiresAt.getTime() > first.expiresAt.getTime());
      });

      test("release frees it, but only for the holder", async () => {
        const name = unique("lease-release");
        assert.equal(await store.acquireLease(name, "a", 60_000), true);
        await store.releaseLease(name, "b");
        assert.equal((await store.getLease(name))?.holder, "a");
        assert.equal(await store.acquireLease(name, "b", 60_000), false);
        await store.releaseLease(name, "a");
        assert.equal(await store.getLease(name), undefined);
        assert.equal(await store.acquireLease(name, "b", 60_000), true);
        assert.equal((await store.getLease(name))?.holder, "b");
      });

      test("an expired lease can be taken by another holder", async () => {
        const name = unique("lease-expire");
        assert.equal(await store.acquireLease(name, "a", 1), true);
        await sleep(20);
        assert.equal(await store.getLease(name), undefined);
        assert.equal(await store.acquireLease(name, "b", 60_000), true);
        assert.equal((await store.getLease(name))?.holder, "b");
        assert.equal(await store.acquireLease(name, "a", 60_000), false);
      });

      test("an unknown lease is not held", async () => {
        assert.equal(await store.getLease(unique("lease-none")), undefined);
      });

      test("two instances racing for a lease: exactly one gets it", async () => {
        await withSecondStore(async (other) => {
          for (let round = 0; round < 10; round++) {
            const name = unique(`lease-race-${round}`);
            const [a, b] = await Promise.all([store.acquireLease(name, "instance-a", 60_000), other.acquireLease(name, "instance-b", 60_000)]);
            assert.equal(Number(a) + Number(b), 1, `round ${round}`);
            const holder = (await other.getLease(name))?.holder;
            assert.equal(holder, a ? "instance-a" : "instance-b");
          }
        });
      });
    });

    describe("decisions", () => {
      test("record returns the stored decision and get returns the same", async () => {
        const decision = await store.recordDecision({
          title: "Use keyset pagination for orders",
          text: "Offset pagination skipped rows when new orders arrived — «ü» note.",
          tags: ["pagination", "orders"],
          subject: unique("orders-sync"),
        });
        assert.equal(typeof decision.id, "string");
        assert.ok(decision.createdAt instanceof Date);
        assert.deepEqual(decision.tags, ["pagination", "orders"]);
        assert.deepEqual(await store.getDecision(decision.id), decision);
        const bare = await store.recordDecision({ title: "No subject", text: "", tags: [] });
        assert.equal("subject" in bare, false);
        assert.deepEqual(bare.tags, []);
        assert.equal(await store.getDecision("no-such-decision"), undefined);
      });

      test("every word must appear, case-insensitively, in the title or the text", async () => {
        const token = unique("tok").replaceAll("-", "");
        const both = await store.recordDecision({ title: `Retry ${token} budget`, text: "Cap RETRIES at five for the CRM sink", tags: [] });
        const titleOnly = await store.recordDecision({ title: `Budget for ${token}`, text: "nothing else", tags: [] });
        await store.recordDecision({ title: "Unrelated", text: "retries budget", tags: [] });

        const ids = (list: { id: string }[]): string[] => list.map((decision) => decision.id);
        assert.deepEqual(ids(await store.queryDecisions({ text: `${token.toUpperCase()} budget` })), [titleOnly.id, both.id]);
        assert.deepEqual(ids(await store.queryDecisions({ text: `${token}   retries crm` })), [both.id], "words may come from title and text");
        assert.deepEqual(ids(await store.queryDecisions({ text: `${token} missingword` })), []);
        assert.deepEqual(ids(await store.queryDecisions({ text: `${token} budg` })), [titleOnly.id, both.id], "substrings of words match");
      });

      test("case-insensitive beyond ASCII", async () => {
        const token = unique("uni").replaceAll("-", "");
        const decision = await store.recordDecision({ title: `Über ${token}`, text: "ÇA VA — ÉTÉ", tags: [] });
        assert.deepEqual(
          (await store.queryDecisions({ text: `über ${token} ça été` })).map((d) => d.id),
          [decision.id],
        );
      });

      test("tags match exactly and all given tags must be present", async () => {
        const subject = unique("tag-subject");
        const both = await store.recordDecision({ title: "a", text: "", tags: ["db", "postgres"], subject });
        const dbOnly = await store.recordDecision({ title: "b", text: "", tags: ["db"], subject });
        await store.recordDecision({ title: "c", text: "", tags: ["dbs", "DB", "postgresql"], subject });

        const ids = (list: { id: string }[]): string[] => list.map((decision) => decision.id);
        assert.deepEqual(ids(await store.queryDecisions({ subject, tags: ["db"] })), [dbOnly.id, both.id]);
        assert.deepEqual(ids(await store.queryDecisions({ subject, tags: ["postgres", "db"] })), [both.id]);
        assert.deepEqual(ids(await store.queryDecisions({ subject, tags: ["post"] })), []);
        assert.equal((await store.queryDecisions({ subject, tags: [] })).length, 3);
      });

      test("subject is exact; results are newest first and limited", async () => {
        const subject = unique("subject");
        const decisions = [];
        for (let index = 0; index < 4; index++) decisions.push(await store.recordDecision({ title: `d${index}`, text: "t", tags: [], subject }));
        await store.recordDecision({ title: "prefix", text: "t", tags: [], subject: `${subject}-longer` });

        const ids = (list: { id: string }[]): string[] => list.map((decision) => decision.id);
        assert.deepEqual(ids(await store.queryDecisions({ subject })), ids([...decisions].reverse()));
        assert.deepEqual(ids(await store.queryDecisions({ subject, limit: 2 })), [decisions[3]!.id, decisions[2]!.id]);
        assert.deepEqual(ids(await store.queryDecisions({ subject: subject.toUpperCase() })), []);
        const all = await store.queryDecisions({});
        assert.ok(all.length >= 5);
        assert.deepEqual(ids(all), ids(all).sort().reverse());
      });
    });
  });
}

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function deadLetterInput(integration: string, payload: unknown = { n: 1 }): NewDeadLetter {
  return {
    integration,
    message: { id: randomUUID(), payload, headers: {}, metadata: {}, correlationId: "c-1" },
    stage: "sink",
    error: { kind: "transient", message: "HTTP 503" },
    attempts: 5,
  };
}
