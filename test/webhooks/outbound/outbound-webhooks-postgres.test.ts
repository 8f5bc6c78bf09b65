// @needs-service postgres
// The main outbound scenario on the PostgreSQL state store (several instances share work there).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { generateStandardWebhookSecret } from "../../../src/webhooks/signatures/standard-keys.js";
import { json, startLocalApi } from "../../connectors/http/local-api.js";
import type { LocalApi } from "../../connectors/http/local-api.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { settled, startOutbound, waitFor } from "./outbound-harness.js";
import type { Harness } from "./outbound-harness.js";

const skip = await serviceSkipReason("postgres");
const schema = `junction_test_outbound_${randomBytes(6).toString("hex")}`;

function stateUrl(): string {
  const url = new URL(postgresTestUrl());
  url.searchParams.set("schema", schema);
  return url.href;
}

describe("outbound webhooks runtime (PostgreSQL state)", { skip }, () => {
  const servers: LocalApi[] = [];
  const harnesses: Harness[] = [];
  after(async () => {
    for (const harness of harnesses) await harness.close();
    for (const server of servers) await server.close();
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  test("fails 3 times, then delivered on attempt 4 with 4 attempts logged; a 410 endpoint is disabled", async () => {
    const secret = generateStandardWebhookSecret();
    const verifier = new Webhook(secret);
    let calls = 0;
    const flaky = await startLocalApi((request, response) => {
      verifier.verify(request.body, request.headers as Record<string, string>);
      calls += 1;
      json(response, calls <= 3 ? 500 : 200, {});
    });
    const gone = await startLocalApi((_request, response) => json(response, 410, {}));
    servers.push(flaky, gone);
    const harness = await startOutbound(stateUrl(), {
      schedule: ["0s", "50ms", "50ms", "50ms"],
      allow_private: true,
      endpoints: { flaky: { url: flaky.url, secret }, gone: { url: gone.url, secret: generateStandardWebhookSecret() } },
    });
    harnesses.push(harness);
    await harness.write([{ id: "order-1", type: "order.created" }]);

    const delivery = await settled(harness, "flaky");
    assert.equal(delivery.status, "delivered");
    assert.equal(delivery.attempts, 4);
    const attempts = await harness.state.webhookDeliveries.attempts(delivery.id);
    assert.deepEqual(attempts.map((attempt) => attempt.status), [500, 500, 500, 200]);
    assert.equal(new Set(flaky.requests.map((request) => request.headers["webhook-id"])).size, 1);

    assert.equal((await settled(harness, "gone")).status, "failed");
    await waitFor("the endpoint_disabled event", () => (harness.disabled.length > 0 ? true : undefined));
    assert.equal((await harness.state.webhookDeliveries.getEndpoint("customers", "gone"))?.disabled, true);
    assert.equal(gone.requests.length, 1);
  });
});
