import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { StateMaintenance } from "../../src/engine/state-maintenance.js";
import { createLogger } from "../../src/observability/logger.js";
import { SqliteStateStore } from "../../src/state/sqlite/sqlite-state-store.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());
const logger = createLogger({ level: "silent" });

test("removes expired idempotency keys and settled deliveries past retention; one instance at a time", { timeout: 20_000 }, async () => {
  const file = join(dir.path, "state.db");
  const store = new SqliteStateStore(file);
  const other = new SqliteStateStore(file);
  await store.migrate();
  try {
    // Two replay-protection ids that expire at once, one that does not.
    await store.webhookInbox.accept([
      { endpoint: "hooks", eventId: "old-1", integrations: [], receivedAt: new Date(), headers: {}, body: "{}", dedupTtlMs: 1 },
      { endpoint: "hooks", eventId: "old-2", integrations: [], receivedAt: new Date(), headers: {}, body: "{}", dedupTtlMs: 1 },
      { endpoint: "hooks", eventId: "live", integrations: [], receivedAt: new Date(), headers: {}, body: "{}", dedupTtlMs: 60_000 },
    ]);
    const day = 86_400_000;
    const delivery = (messageId: string, ageDays: number) => ({ outbound: "out", endpoint: "a", messageId, eventId: `msg_${messageId}`, eventType: "t", body: "{}", createdAt: new Date(Date.now() - ageDays * day) });
    await store.webhookDeliveries.enqueue([delivery("old", 40), delivery("pending-old", 40), delivery("young", 1)]);
    for (const claimed of await store.webhookDeliveries.claimDue(10, 60_000)) {
      if (claimed.messageId === "pending-old") continue;
      await store.webhookDeliveries.recordAttempt({ deliveryId: claimed.id, attempt: 1, startedAt: new Date(), latencyMs: 1, status: 200 }, { status: "delivered" });
    }
    await sleep(10);

    const maintenance = new StateMaintenance(store, "instance-a", logger, { deliveryRetentionMs: 30 * day });
    assert.deepEqual(await maintenance.runOnce(), { idempotencyKeys: 2, deliveries: 1 });
    assert.deepEqual((await store.webhookDeliveries.list({ outbound: "out" })).map((d) => d.messageId).sort(), ["pending-old", "young"]);
    assert.equal(await store.webhookInbox.accept([{ endpoint: "hooks", eventId: "live", integrations: [], receivedAt: new Date(), headers: {}, body: "{}", dedupTtlMs: 60_000 }]).then((r) => r[0]), "duplicate", "an unexpired id is kept");

    const elsewhere = new StateMaintenance(other, "instance-b", logger);
    assert.equal(await elsewhere.runOnce(), undefined, "another instance holds the maintenance lease");
    await maintenance.stop();
    await elsewhere.stop();
  } finally {
    await other.close();
    await store.close();
  }
});
