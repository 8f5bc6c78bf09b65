import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { JunctionError } from "../../src/core/errors.js";
import type { StoredMessage } from "../../src/core/message.js";
import type { NewDeadLetter, NewInboundEvent, NewDeliveryAttempt, NewWebhookDelivery, StateStore, WebhookDelivery } from "../../src/state/types.js";

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

    describe("webhook inbox", () => {
      async function acceptOne(target: StateStore, event: Omit<NewInboundEvent, "dedupTtlMs">, dedupTtlMs: number): Promise<string | undefined> {
        return (await target.webhookInbox.accept([{ ...event, dedupTtlMs }]))[0];
      }

      function inbound(endpoint: string, eventId: string, integrations: string[], body = `{"id":"${eventId}","amount":1}`) {
        return { endpoint, eventId, eventType: "charge.succeeded", integrations, receivedAt: new Date(), headers: { "content-type": "application/json", "x-trace": "é" }, body };
      }

      test("accept stores one row per routed integration; the same id again is a duplicate that stores nothing", async () => {
        const endpoint = unique("hook");
        const [a, b] = [unique("inbox-a"), unique("inbox-b")];
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_1", [a, b]), 60_000), "accepted");
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_1", [a, b], "{\"forged\":true}"), 60_000), "duplicate");
        assert.equal(await store.webhookInbox.count({ endpoint }), 2);
        assert.equal(await store.webhookInbox.count({ integration: a }), 1);
        assert.equal(await acceptOne(store, inbound(unique("hook-other"), "evt_1", [a]), 60_000), "accepted", "ids are per endpoint");
        const [event] = await store.webhookInbox.claim(a, 10, 60_000);
        assert.ok(event);
        assert.equal(event.eventId, "evt_1");
        assert.equal(event.eventType, "charge.succeeded");
        assert.equal(event.body, `{"id":"evt_1","amount":1}`, "the first body, byte for byte");
        assert.deepEqual(event.headers, { "content-type": "application/json", "x-trace": "é" });
        assert.equal(event.deliveries, 1);
        assert.ok(event.receivedAt instanceof Date);
      });

      test("a group of events is stored in one call; a repeated id within the group is a duplicate", async () => {
        const endpoint = unique("hook-group");
        const integration = unique("inbox-group");
        const events = ["evt_1", "evt_2", "evt_1", "evt_3"].map((id, i) => ({ ...inbound(endpoint, id, [integration], `{"n":${i}}`), dedupTtlMs: 60_000 }));
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_3", [integration]), 60_000), "accepted");
        assert.deepEqual(await store.webhookInbox.accept(events), ["accepted", "accepted", "duplicate", "duplicate"]);
        const taken = await store.webhookInbox.claim(integration, 10, 60_000);
        assert.deepEqual(taken.map((e) => [e.eventId, e.body]), [["evt_3", `{"id":"evt_3","amount":1}`], ["evt_1", '{"n":0}'], ["evt_2", '{"n":1}']]);
        assert.deepEqual(await store.webhookInbox.accept([]), []);
      });

      test("an event routed nowhere is still remembered as accepted", async () => {
        const endpoint = unique("hook-none");
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_x", []), 60_000), "accepted");
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_x", []), 60_000), "duplicate");
        assert.equal(await store.webhookInbox.count({ endpoint }), 0);
      });

      test("an expired id may be accepted again", async () => {
        const endpoint = unique("hook-ttl");
        const integration = unique("inbox-ttl");
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_1", [integration]), 1), "accepted");
        await sleep(20);
        assert.equal(await acceptOne(store, inbound(endpoint, "evt_1", [integration]), 60_000), "accepted");
        assert.equal(await store.webhookInbox.count({ integration }), 2);
      });

      test("claim takes events oldest first and hides them for the lease; complete removes, release shows again", async () => {
        const endpoint = unique("hook-claim");
        const integration = unique("inbox-claim");
        for (let i = 0; i < 5; i++) await acceptOne(store, inbound(endpoint, `evt_${i}`, [integration]), 60_000);
        const first = await store.webhookInbox.claim(integration, 3, 60_000);
        assert.deepEqual(first.map((e) => e.eventId), ["evt_0", "evt_1", "evt_2"]);
        const second = await store.webhookInbox.claim(integration, 10, 60_000);
        assert.deepEqual(second.map((e) => e.eventId), ["evt_3", "evt_4"]);
        assert.deepEqual(await store.webhookInbox.claim(integration, 10, 60_000), [], "all are taken");
        await store.webhookInbox.complete(first.map((e) => e.id));
        assert.equal(await store.webhookInbox.count({ integration }), 2);
        await store.webhookInbox.release([second[0]!.id], 0);
        const again = await store.webhookInbox.claim(integration, 10, 60_000);
        assert.deepEqual(again.map((e) => [e.eventId, e.deliveries]), [["evt_3", 2]]);
        await store.webhookInbox.release([second[1]!.id], 60_000);
        assert.deepEqual(await store.webhookInbox.claim(integration, 10, 60_000), [], "released with a delay: still hidden");
      });

      test("an expired lease makes the event visible again, to another instance too", async () => {
        const endpoint = unique("hook-lease");
        const integration = unique("inbox-lease");
        await acceptOne(store, inbound(endpoint, "evt_1", [integration]), 60_000);
        assert.equal((await store.webhookInbox.claim(integration, 10, 1)).length, 1);
        await sleep(20);
        await withSecondStore(async (other) => {
          const taken = await other.webhookInbox.claim(integration, 10, 60_000);
          assert.deepEqual(taken.map((e) => [e.eventId, e.deliveries]), [["evt_1", 2]]);
        });
      });

      test("two instances claiming at once never take the same event", async () => {
        const endpoint = unique("hook-race");
        const integration = unique("inbox-race");
        for (let i = 0; i < 40; i++) await acceptOne(store, inbound(endpoint, `evt_${i}`, [integration]), 60_000);
        await withSecondStore(async (other) => {
          const taken: string[] = [];
          await Promise.all(
            [store, other].map(async (instance) => {
              for (;;) {
                const events = await instance.webhookInbox.claim(integration, 3, 60_000);
                if (events.length === 0) return;
                taken.push(...events.map((e) => e.eventId));
              }
            }),
          );
          assert.equal(taken.length, 40);
          assert.equal(new Set(taken).size, 40);
        });
      });

      test("the same id accepted by two instances at once is stored once", async () => {
        const endpoint = unique("hook-twice");
        const integration = unique("inbox-twice");
        await withSecondStore(async (other) => {
          const outcomes = await Promise.all([store, other, store, other].map((instance) => acceptOne(instance, inbound(endpoint, "evt_1", [integration]), 60_000)));
          assert.equal(outcomes.filter((o) => o === "accepted").length, 1);
          assert.equal(await store.webhookInbox.count({ integration }), 1);
        });
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

    describe("webhook deliveries", () => {
      function outgoing(outbound: string, endpoint: string, messageId: string, overrides: Partial<NewWebhookDelivery> = {}): NewWebhookDelivery {
        return {
          outbound,
          endpoint,
          messageId,
          eventId: `msg_${messageId}`,
          eventType: "order.created",
          body: `{"type":"order.created","data":{"id":"${messageId}","note":"café ☕"}}`,
          createdAt: new Date(),
          ...overrides,
        };
      }

      /** claimDue is not filtered, and deliveries of other tests share the database: take everything due and keep this test's. */
      async function claimOf(instance: StateStore, outbound: string, leaseMs = 60_000): Promise<WebhookDelivery[]> {
        return (await instance.webhookDeliveries.claimDue(100_000, leaseMs)).filter((delivery) => delivery.outbound === outbound);
      }

      function attemptOf(delivery: WebhookDelivery, fields: Partial<NewDeliveryAttempt> = {}): NewDeliveryAttempt {
        return { deliveryId: delivery.id, attempt: delivery.attempts + 1, startedAt: new Date(), latencyMs: 12.5, ...fields };
      }

      /** Enqueues one delivery, claims it and records a failed first attempt. */
      async function failedDelivery(outbound: string, endpoint: string, messageId: string, createdAt = new Date()): Promise<WebhookDelivery> {
        await store.webhookDeliveries.enqueue([outgoing(outbound, endpoint, messageId, { createdAt })]);
        const claimed = (await claimOf(store, outbound)).find((delivery) => delivery.messageId === messageId);
        assert.ok(claimed, `${messageId} was claimed`);
        await store.webhookDeliveries.recordAttempt(attemptOf(claimed, { status: 500, responseBody: "boom" }), { status: "failed" });
        return claimed;
      }

      const ids = (list: { id: string }[]): string[] => list.map((delivery) => delivery.id);

      test("purgeSettled removes old delivered and failed deliveries with their attempts; pending ones and newer ones stay", async () => {
        const outbound = unique("out-purge");
        const old = new Date(Date.now() - 20 * 86_400_000);
        const failed = await failedDelivery(outbound, "a", "old-failed", old);
        await store.webhookDeliveries.enqueue([outgoing(outbound, "a", "old-delivered", { createdAt: old }), outgoing(outbound, "a", "old-pending", { createdAt: old })]);
        const delivered = (await claimOf(store, outbound)).find((delivery) => delivery.messageId === "old-delivered");
        assert.ok(delivered);
        await store.webhookDeliveries.recordAttempt(attemptOf(delivered, { status: 200 }), { status: "delivered" });
        const recent = await failedDelivery(outbound, "a", "recent-failed");
        const removed = await store.webhookDeliveries.purgeSettled(new Date(Date.now() - 10 * 86_400_000));
        assert.ok(removed >= 2, `at least this test's two old settled deliveries (${removed})`);
        const left = await store.webhookDeliveries.list({ outbound });
        assert.deepEqual(left.map((delivery) => delivery.messageId).sort(), ["old-pending", "recent-failed"]);
        assert.equal(await store.webhookDeliveries.get(failed.id), undefined);
        assert.deepEqual(await store.webhookDeliveries.attempts(failed.id), [], "the attempts went with their delivery");
        assert.equal((await store.webhookDeliveries.attempts(recent.id)).length, 1);
      });

      test("enqueue stores pending deliveries due now; a message id already enqueued for the endpoint adds nothing", async () => {
        const outbound = unique("out-enqueue");
        const createdAt = new Date(Date.now() - 5000);
        assert.equal(await store.webhookDeliveries.enqueue([outgoing(outbound, "a", "m1", { createdAt }), outgoing(outbound, "a", "m2")]), 2);
        assert.equal(
          await store.webhookDeliveries.enqueue([outgoing(outbound, "a", "m1", { body: "{\"changed\":true}" }), outgoing(outbound, "a", "m3"), outgoing(outbound, "a", "m3")]),
          1,
          "m1 exists already; m3 twice in one batch is stored once",
        );
        assert.equal(await store.webhookDeliveries.enqueue([outgoing(outbound, "b", "m1")]), 1, "the same message for another endpoint is a delivery of its own");
        assert.equal(await store.webhookDeliveries.enqueue([]), 0);

        const listed = await store.webhookDeliveries.list({ outbound });
        assert.equal(listed.length, 4);
        const first = listed.find((delivery) => delivery.endpoint === "a" && delivery.messageId === "m1");
        assert.ok(first);
        assert.equal(typeof first.id, "string");
        assert.equal(first.status, "pending");
        assert.equal(first.attempts, 0);
        assert.equal(first.eventId, "msg_m1");
        assert.equal(first.eventType, "order.created");
        assert.equal(first.body, `{"type":"order.created","data":{"id":"m1","note":"café ☕"}}`, "the first body, byte for byte");
        assert.equal(first.createdAt.getTime(), createdAt.getTime());
        assert.ok(first.nextAttemptAt instanceof Date);
        assert.ok(Math.abs(first.nextAttemptAt.getTime() - Date.now()) < 60_000, "due about now");
        for (const field of ["lastAttemptAt", "lastStatus", "lastError", "deliveredAt"]) assert.equal(field in first, false, field);
        assert.deepEqual(await store.webhookDeliveries.get(first.id), first);
        assert.equal(await store.webhookDeliveries.get("no-such-delivery"), undefined);
      });

      test("two instances enqueueing overlapping batches at once store each delivery once", async () => {
        const outbound = unique("out-enqueue-race");
        const batch = Array.from({ length: 20 }, (_, index) => outgoing(outbound, "e", `m${index}`));
        await withSecondStore(async (other) => {
          const added = await Promise.all([
            store.webhookDeliveries.enqueue(batch),
            other.webhookDeliveries.enqueue([...batch].reverse()),
            store.webhookDeliveries.enqueue(batch.slice(5)),
            other.webhookDeliveries.enqueue(batch.slice(0, 10).reverse()),
          ]);
          assert.equal(
            added.reduce((sum, count) => sum + count, 0),
            20,
          );
        });
        assert.equal((await store.webhookDeliveries.list({ outbound })).length, 20);
      });

      test("claimDue takes due deliveries oldest due first and hides them for the lease, from another instance too", async () => {
        const outbound = unique("out-claim");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "e", "m1"), outgoing(outbound, "e", "m2"), outgoing(outbound, "e", "m3")]);
        const claimed = await claimOf(store, outbound);
        assert.deepEqual(
          claimed.map((delivery) => delivery.messageId),
          ["m1", "m2", "m3"],
        );
        for (const delivery of claimed) assert.ok((delivery.nextAttemptAt?.getTime() ?? 0) > Date.now() + 30_000, "due again only after the lease");
        assert.deepEqual(await claimOf(store, outbound), [], "leased: not due");
        await withSecondStore(async (other) => assert.deepEqual(await claimOf(other, outbound), [], "another instance skips them too"));

        // Each attempt fails with a next attempt time: they come back in the order those fall due.
        const [m1, m2, m3] = claimed as [WebhookDelivery, WebhookDelivery, WebhookDelivery];
        const now = Date.now();
        await store.webhookDeliveries.recordAttempt(attemptOf(m1, { status: 503 }), { status: "pending", nextAttemptAt: new Date(now - 2000) });
        await store.webhookDeliveries.recordAttempt(attemptOf(m2, { status: 503 }), { status: "pending", nextAttemptAt: new Date(now - 1000) });
        await store.webhookDeliveries.recordAttempt(attemptOf(m3, { status: 503 }), { status: "pending", nextAttemptAt: new Date(now - 3000) });
        const again = await claimOf(store, outbound);
        assert.deepEqual(
          again.map((delivery) => [delivery.messageId, delivery.attempts]),
          [
            ["m3", 1],
            ["m1", 1],
            ["m2", 1],
          ],
        );

        const [later] = again as [WebhookDelivery];
        await store.webhookDeliveries.recordAttempt(attemptOf(later, { status: 503 }), { status: "pending", nextAttemptAt: new Date(Date.now() + 3_600_000) });
        assert.equal(await store.webhookDeliveries.claimDue(0, 60_000).then((list) => list.length), 0, "limit 0 takes nothing");
        await assert.rejects(store.webhookDeliveries.claimDue(-1, 60_000), JunctionError);
        await withSecondStore(async (other) => assert.deepEqual(await claimOf(other, outbound), [], "a next attempt in an hour is not due"));
      });

      test("an expired lease makes a delivery due again, for another instance too", async () => {
        const outbound = unique("out-lease");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "e", "m1")]);
        assert.equal((await claimOf(store, outbound, 1)).length, 1);
        await sleep(20);
        await withSecondStore(async (other) => {
          const taken = await claimOf(other, outbound);
          assert.deepEqual(
            taken.map((delivery) => [delivery.messageId, delivery.attempts]),
            [["m1", 0]],
            "a lease that ran out without an attempt recorded counts no attempt",
          );
        });
      });

      test("two instances claiming at once never take the same delivery", async () => {
        const outbound = unique("out-race");
        await store.webhookDeliveries.enqueue(Array.from({ length: 40 }, (_, index) => outgoing(outbound, `e${index % 3}`, `m${index}`)));
        await withSecondStore(async (other) => {
          const taken: string[] = [];
          await Promise.all(
            [store, other, store, other].map(async (instance) => {
              for (;;) {
                const claimed = await instance.webhookDeliveries.claimDue(3, 60_000);
                if (claimed.length === 0) return;
                taken.push(...claimed.filter((delivery) => delivery.outbound === outbound).map((delivery) => delivery.id));
              }
            }),
          );
          assert.equal(taken.length, 40);
          assert.equal(new Set(taken).size, 40);
        });
      });

      test("recordAttempt for each outcome updates the delivery; attempts() is the log in order", async () => {
        const outbound = unique("out-outcome");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "e", "ok"), outgoing(outbound, "e", "retry"), outgoing(outbound, "e", "gone")]);
        const claimed = new Map((await claimOf(store, outbound)).map((delivery) => [delivery.messageId, delivery]));
        const ok = claimed.get("ok");
        const retry = claimed.get("retry");
        const gone = claimed.get("gone");
        assert.ok(ok && retry && gone);

        const firstStart = new Date(Date.now() - 1000);
        await store.webhookDeliveries.recordAttempt(attemptOf(retry, { startedAt: firstStart, latencyMs: 30_000, error: "timed out after 30s" }), {
          status: "pending",
          nextAttemptAt: new Date(Date.now() - 1),
        });
        const afterFirst = await store.webhookDeliveries.get(retry.id);
        assert.equal(afterFirst?.status, "pending");
        assert.equal(afterFirst?.attempts, 1);
        assert.equal(afterFirst?.lastError, "timed out after 30s");
        assert.equal(afterFirst?.lastStatus, undefined, "no response, no status");
        assert.equal(afterFirst?.lastAttemptAt?.getTime(), firstStart.getTime());

        const [retried] = (await claimOf(store, outbound)).filter((delivery) => delivery.id === retry.id);
        assert.ok(retried);
        await store.webhookDeliveries.recordAttempt(attemptOf(retried, { status: 200, responseBody: "thanks", latencyMs: 41 }), { status: "delivered" });
        const delivered = await store.webhookDeliveries.get(retry.id);
        assert.equal(delivered?.status, "delivered");
        assert.equal(delivered?.attempts, 2);
        assert.equal(delivered?.lastStatus, 200);
        assert.equal("lastError" in (delivered ?? {}), false, "a success clears the last error");
        assert.equal("nextAttemptAt" in (delivered ?? {}), false);
        assert.ok(delivered?.deliveredAt instanceof Date);

        const log = await store.webhookDeliveries.attempts(retry.id);
        assert.deepEqual(
          log.map((attempt) => [attempt.attempt, attempt.status, attempt.error, attempt.responseBody, attempt.latencyMs]),
          [
            [1, undefined, "timed out after 30s", undefined, 30_000],
            [2, 200, undefined, "thanks", 41],
          ],
        );
        assert.equal(log[0]?.deliveryId, retry.id);
        assert.equal(log[0]?.startedAt.getTime(), firstStart.getTime());
        assert.equal(typeof log[0]?.id, "string");
        assert.notEqual(log[0]?.id, log[1]?.id);

        const huge = `${"é".repeat(5000)}`;
        await store.webhookDeliveries.recordAttempt(attemptOf(gone, { status: 410, responseBody: huge, error: `HTTP 410 ${huge}` }), { status: "failed" });
        const failed = await store.webhookDeliveries.get(gone.id);
        assert.equal(failed?.status, "failed");
        assert.equal(failed?.attempts, 1);
        assert.equal(failed?.lastStatus, 410);
        assert.equal("nextAttemptAt" in (failed ?? {}), false);
        const [stored] = await store.webhookDeliveries.attempts(gone.id);
        assert.ok(stored?.responseBody && stored.error && failed?.lastError);
        for (const text of [stored.responseBody, stored.error, failed.lastError]) {
          assert.ok(Buffer.byteLength(text) <= 4096, "stored text is capped at 4 KiB");
          assert.match(text, /é…$/, "cut on a character boundary and marked");
        }

        await store.webhookDeliveries.recordAttempt(attemptOf(ok, { status: 204 }), { status: "delivered" });
        assert.equal((await store.webhookDeliveries.get(ok.id))?.status, "delivered");
        assert.deepEqual(await store.webhookDeliveries.attempts("no-such-delivery"), []);
        await assert.rejects(
          store.webhookDeliveries.recordAttempt({ deliveryId: "no-such-delivery", attempt: 1, startedAt: new Date(), latencyMs: 1 }, { status: "delivered" }),
          JunctionError,
        );
      });

      test("a stale lease holder's outcome never overrides a newer one, but its success still counts", async () => {
        const outbound = unique("out-stale");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "e", "m1")]);
        const [held] = await claimOf(store, outbound, 1);
        assert.ok(held);
        await sleep(20);
        await withSecondStore(async (other) => {
          const [current] = await claimOf(other, outbound);
          assert.ok(current, "the lease ran out: another instance takes it");
          const next = new Date(Date.now() + 3_600_000);
          await other.webhookDeliveries.recordAttempt(attemptOf(current, { status: 503 }), { status: "pending", nextAttemptAt: next });
        });
        // The first holder finishes the same attempt late, and gives up on it.
        await store.webhookDeliveries.recordAttempt(attemptOf(held, { status: 500 }), { status: "failed" });
        const afterStale = await store.webhookDeliveries.get(held.id);
        assert.equal(afterStale?.status, "pending", "the late failure did not override the newer outcome");
        assert.equal(afterStale?.attempts, 1);
        assert.equal(afterStale?.lastStatus, 503);
        assert.equal((await store.webhookDeliveries.attempts(held.id)).length, 2, "both requests are in the log");

        // A late success is still the truth: the receiver got it.
        await store.webhookDeliveries.recordAttempt(attemptOf(held, { status: 200 }), { status: "delivered" });
        const delivered = await store.webhookDeliveries.get(held.id);
        assert.equal(delivered?.status, "delivered");
        assert.equal(delivered?.attempts, 1);
        await store.webhookDeliveries.recordAttempt(attemptOf(held, { attempt: 2, status: 500 }), { status: "failed" });
        assert.equal((await store.webhookDeliveries.get(held.id))?.status, "delivered", "nothing undoes a delivery");
      });

      test("list is newest first and filters by outbound, endpoint, status, since and limit", async () => {
        const outbound = unique("out-list");
        const old = new Date(Date.now() - 3_600_000);
        await store.webhookDeliveries.enqueue([outgoing(outbound, "a", "m1", { createdAt: old })]);
        await store.webhookDeliveries.enqueue([outgoing(outbound, "b", "m2")]);
        await store.webhookDeliveries.enqueue([outgoing(outbound, "a", "m3")]);
        await store.webhookDeliveries.enqueue([outgoing(unique("out-list-other"), "a", "m4")]);
        const all = await store.webhookDeliveries.list({ outbound });
        assert.deepEqual(
          all.map((delivery) => delivery.messageId),
          ["m3", "m2", "m1"],
        );
        const [m3, m2, m1] = all as [WebhookDelivery, WebhookDelivery, WebhookDelivery];
        await store.webhookDeliveries.recordAttempt(attemptOf(m2, { status: 200 }), { status: "delivered" });

        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, endpoint: "a" })), [m3.id, m1.id]);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, status: "pending" })), [m3.id, m1.id]);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, status: "delivered" })), [m2.id]);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, status: "failed" })), []);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, since: new Date(Date.now() - 60_000) })), [m3.id, m2.id]);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, since: old })), [m3.id, m2.id, m1.id], "since is inclusive");
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, limit: 2 })), [m3.id, m2.id]);
        assert.deepEqual(ids(await store.webhookDeliveries.list({ outbound, endpoint: "a", status: "pending", limit: 1 })), [m3.id]);
        assert.ok((await store.webhookDeliveries.list()).length >= 4);
        await assert.rejects(store.webhookDeliveries.list({ limit: -1 }), JunctionError);
      });

      test("resend makes any delivery pending and due now; an unknown id is false", async () => {
        const outbound = unique("out-resend");
        const failed = await failedDelivery(outbound, "e", "m1");
        assert.equal(await store.webhookDeliveries.resend(failed.id), true);
        const pending = await store.webhookDeliveries.get(failed.id);
        assert.equal(pending?.status, "pending");
        assert.equal(pending?.attempts, 1, "attempts keep counting");
        const [again] = await claimOf(store, outbound);
        assert.equal(again?.id, failed.id, "due at once");

        await store.webhookDeliveries.recordAttempt(attemptOf(again, { status: 200 }), { status: "delivered" });
        assert.equal(await store.webhookDeliveries.resend(failed.id), true, "a delivered one too");
        const resent = await store.webhookDeliveries.get(failed.id);
        assert.equal(resent?.status, "pending");
        assert.equal("deliveredAt" in (resent ?? {}), false);
        assert.deepEqual(ids(await claimOf(store, outbound)), [failed.id]);
        assert.equal(await store.webhookDeliveries.resend("no-such-delivery"), false);
      });

      test("recover makes the endpoint's failed deliveries created since a time pending again", async () => {
        const outbound = unique("out-recover");
        const since = new Date(Date.now() - 60_000);
        const before = await failedDelivery(outbound, "e", "old", new Date(since.getTime() - 1));
        const atSince = await failedDelivery(outbound, "e", "at-since", since);
        const recent = await failedDelivery(outbound, "e", "recent");
        const elsewhere = await failedDelivery(outbound, "other", "elsewhere");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "e", "delivered")]);
        const [toDeliver] = await claimOf(store, outbound);
        assert.ok(toDeliver);
        await store.webhookDeliveries.recordAttempt(attemptOf(toDeliver, { status: 200 }), { status: "delivered" });

        assert.equal(await store.webhookDeliveries.recover(outbound, "e", since), 2);
        assert.equal((await store.webhookDeliveries.get(before.id))?.status, "failed", "older than since");
        assert.equal((await store.webhookDeliveries.get(elsewhere.id))?.status, "failed", "another endpoint");
        assert.equal((await store.webhookDeliveries.get(toDeliver.id))?.status, "delivered");
        assert.deepEqual(ids(await claimOf(store, outbound)).sort(), [atSince.id, recent.id].sort(), "recovered deliveries are due now");
        assert.equal(await store.webhookDeliveries.recover(outbound, "e", since), 0, "nothing failed left");
      });

      test("deliveries of a disabled endpoint are never claimed, until it is enabled", async () => {
        const outbound = unique("out-disabled");
        await store.webhookDeliveries.enqueue([outgoing(outbound, "off", "m1"), outgoing(outbound, "on", "m2"), outgoing(outbound, "off", "m3")]);
        await store.webhookDeliveries.setEndpoint({ outbound, endpoint: "off", disabled: true, disabledAt: new Date(), disabledReason: "HTTP 410 Gone" });
        await store.webhookDeliveries.setEndpoint({ outbound, endpoint: "on", disabled: false });
        assert.deepEqual(
          (await claimOf(store, outbound)).map((delivery) => delivery.messageId),
          ["m2"],
        );
        await withSecondStore(async (other) => assert.deepEqual(await claimOf(other, outbound), []));
        await store.webhookDeliveries.setEndpoint({ outbound, endpoint: "off", disabled: false });
        assert.deepEqual(
          (await claimOf(store, outbound)).map((delivery) => delivery.messageId),
          ["m1", "m3"],
        );
      });

      test("endpoint state round-trips and is replaced as a whole", async () => {
        const outbound = unique("out-endpoint");
        assert.equal(await store.webhookDeliveries.getEndpoint(outbound, "e"), undefined);
        const failingSince = new Date(Date.now() - 86_400_000);
        const disabledAt = new Date();
        const disabled = { outbound, endpoint: "e", disabled: true, disabledAt, disabledReason: "failing for 24h — last: HTTP 503", failingSince };
        await store.webhookDeliveries.setEndpoint(disabled);
        assert.deepEqual(await store.webhookDeliveries.getEndpoint(outbound, "e"), disabled);
        assert.equal(await store.webhookDeliveries.getEndpoint(outbound, "other"), undefined);
        await store.webhookDeliveries.setEndpoint({ outbound, endpoint: "e", disabled: false });
        assert.deepEqual(await store.webhookDeliveries.getEndpoint(outbound, "e"), { outbound, endpoint: "e", disabled: false });
        await store.webhookDeliveries.setEndpoint({ outbound, endpoint: "e", disabled: false, failingSince });
        assert.deepEqual(await store.webhookDeliveries.getEndpoint(outbound, "e"), { outbound, endpoint: "e", disabled: false, failingSince });
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
