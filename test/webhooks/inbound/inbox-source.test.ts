import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Batch, SourceContext } from "../../../src/connectors/types.js";
import { createLogger } from "../../../src/observability/logger.js";
import { SqliteStateStore } from "../../../src/state/sqlite/sqlite-state-store.js";
import { createInboxSource } from "../../../src/webhooks/inbound/inbox-source.js";
import { InboxWakeup } from "../../../src/webhooks/inbound/inbox-wakeup.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

function context(integration: string, follow: boolean): SourceContext {
  return { integration, logger: createLogger({ level: "silent" }), follow, batchSize: 10, checkpoints: { get: async () => undefined, set: async () => undefined } };
}

test("a batch held longer than its lease keeps its events from other instances; acked, they leave the inbox", { timeout: 20_000 }, async () => {
  const file = join(dir.path, "state.db");
  const store = new SqliteStateStore(file);
  const other = new SqliteStateStore(file);
  await store.migrate();
  try {
    const event = { endpoint: "hooks", integrations: ["sync"], receivedAt: new Date(), headers: { "x-correlation-id": "corr-1" }, dedupTtlMs: 60_000 };
    await store.webhookInbox.accept([
      { ...event, eventId: "evt_1", eventType: "a", body: '{"n":1}' },
      { ...event, eventId: "evt_2", eventType: "b", body: "not json" },
    ]);
    const source = createInboxSource(store.webhookInbox, new InboxWakeup(), { leaseMs: 100, pollIntervalMs: 10 }, context("sync", false));
    const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);
    const batch = first.value!;
    assert.deepEqual(
      batch.messages.map((m) => [m.id, m.payload, m.metadata.event_type, m.correlationId, m.attempt]),
      [
        ["hooks:evt_1", { n: 1 }, "a", "corr-1", 1],
        ["hooks:evt_2", "not json", "b", "corr-1", 1],
      ],
    );
    await sleep(350); // three leases
    assert.deepEqual(await other.webhookInbox.claim("sync", 10, 60_000), [], "the renewed lease hides them");
    await batch.ack();
    assert.equal(await store.webhookInbox.count({ integration: "sync" }), 0);
    assert.equal((await iterator.next()).done, true, "not following: the source ends when the inbox is empty");
    await source.close?.();
  } finally {
    await other.close();
    await store.close();
  }
});

test("a nacked batch comes back; a following source wakes when events are accepted", { timeout: 20_000 }, async () => {
  const store = new SqliteStateStore(join(dir.path, "wake.db"));
  await store.migrate();
  const wakeup = new InboxWakeup();
  const stop = new AbortController();
  try {
    const source = createInboxSource(store.webhookInbox, wakeup, { leaseMs: 60_000, pollIntervalMs: 60_000 }, context("live", true));
    const iterator = source.batches(stop.signal)[Symbol.asyncIterator]();
    const pending = iterator.next();
    await sleep(50);
    await store.webhookInbox.accept([{ endpoint: "hooks", eventId: "evt_9", integrations: ["live"], receivedAt: new Date(), headers: {}, body: "{}", dedupTtlMs: 60_000 }]);
    wakeup.wake(["live"]);
    const woken = await pending;
    assert.deepEqual((woken.value as Batch | undefined)?.messages.map((m) => m.id), ["hooks:evt_9"], "taken at once, not after the 60 s poll interval");
    await woken.value?.nack(new Error("shutting down"), true);
    await sleep(1100);
    const again = await iterator.next();
    assert.deepEqual((again.value as Batch | undefined)?.messages.map((m) => [m.id, m.attempt]), [["hooks:evt_9", 2]], "given back, taken again as a second delivery");
    await again.value?.ack();
    stop.abort();
    assert.equal((await iterator.next()).done, true);
    await source.close?.();
  } finally {
    await store.close();
  }
});
