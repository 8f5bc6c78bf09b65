import assert from "node:assert/strict";
import { after, test } from "node:test";
import { openStateStore } from "../../../src/state/open.js";
import { EndpointHealthTracker } from "../../../src/webhooks/outbound/endpoint-health-tracker.js";
import type { EndpointDisabled } from "../../../src/webhooks/outbound/endpoint-health-tracker.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir("junction-endpoint-health-");
after(() => dir.remove());

test("the run of failures is kept in the state store: started by a failure, ended by a success, disabling after disable_after", async () => {
  const state = await openStateStore(`sqlite:${dir.path}/a.db`);
  try {
    const events: EndpointDisabled[] = [];
    const tracker = new EndpointHealthTracker(state.webhookDeliveries, (event) => events.push(event));
    const t0 = Date.UTC(2026, 0, 1);
    await tracker.failed("o", "e", new Date(t0), 60_000);
    assert.equal((await state.webhookDeliveries.getEndpoint("o", "e"))?.failingSince?.getTime(), t0);
    await tracker.failed("o", "e", new Date(t0 + 30_000), 60_000);
    assert.equal((await state.webhookDeliveries.getEndpoint("o", "e"))?.failingSince?.getTime(), t0, "a later failure keeps the start of the run");
    await tracker.succeeded("o", "e");
    assert.equal((await state.webhookDeliveries.getEndpoint("o", "e"))?.failingSince, undefined);
    await tracker.failed("o", "e", new Date(t0 + 100_000), 60_000);
    await tracker.failed("o", "e", new Date(t0 + 159_999), 60_000);
    assert.equal(events.length, 0, "not yet failing for disable_after");
    await tracker.failed("o", "e", new Date(t0 + 160_000), 60_000);
    const endpoint = await state.webhookDeliveries.getEndpoint("o", "e");
    assert.equal(endpoint?.disabled, true);
    assert.equal(endpoint?.disabledAt?.getTime(), t0 + 160_000);
    assert.deepEqual(events, [{ outbound: "o", endpoint: "e", kind: "failing", reason: "every attempt failed for 1.0 min (disable_after)" }]);
    await tracker.gone("o", "e", new Date(), "the endpoint answered 410 Gone");
    assert.equal(events.length, 1, "an endpoint already disabled raises no second event");
  } finally {
    await state.close();
  }
});

test("a failure read before a concurrent 410 does not write the endpoint back as enabled", async () => {
  const state = await openStateStore(`sqlite:${dir.path}/b.db`);
  try {
    const tracker = new EndpointHealthTracker(state.webhookDeliveries, () => undefined);
    await Promise.all([tracker.gone("o", "e", new Date(), "the endpoint answered 410 Gone"), tracker.failed("o", "e", new Date(), 86_400_000)]);
    const endpoint = await state.webhookDeliveries.getEndpoint("o", "e");
    assert.equal(endpoint?.disabled, true);
    assert.ok(endpoint?.failingSince instanceof Date);
  } finally {
    await state.close();
  }
});
