// One delivery attempt against real local HTTP servers: signing (v1 checked by the
// `standardwebhooks` package, v1a by our verifier: that package only does v1), the address
// guard, timeouts, redirects, Retry-After and the logged response body.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { verifyStandardWebhook } from "../../../src/webhooks/signatures/standard.js";
import { generateStandardWebhookKeyPair, generateStandardWebhookSecret } from "../../../src/webhooks/signatures/standard-keys.js";
import { OutboundAddressPolicy } from "../../../src/webhooks/outbound/outbound-address-policy.js";
import { LOGGED_RESPONSE_BYTES, WebhookSender } from "../../../src/webhooks/outbound/webhook-sender.js";
import { json, startLocalApi } from "../../connectors/http/local-api.js";
import type { LocalApi } from "../../connectors/http/local-api.js";

describe("WebhookSender", () => {
  const servers: LocalApi[] = [];
  const senders: WebhookSender[] = [];
  after(async () => {
    for (const sender of senders) await sender.close();
    for (const server of servers) await server.close();
  });

  async function receiver(handler: Parameters<typeof startLocalApi>[0]): Promise<LocalApi> {
    const api = await startLocalApi(handler);
    servers.push(api);
    return api;
  }

  function sender(options: { allowPrivate?: boolean; allow?: string[]; timeoutMs?: number } = {}): WebhookSender {
    const created = new WebhookSender({
      policy: new OutboundAddressPolicy({ allowPrivate: options.allowPrivate ?? true, allow: options.allow ?? [] }),
      timeoutMs: options.timeoutMs ?? 5000,
    });
    senders.push(created);
    return created;
  }

  const signal = new AbortController().signal;

  test("signs with every key: v1 (HMAC, verified by standardwebhooks) and v1a (ed25519, verified with the public key)", async () => {
    const hmac = generateStandardWebhookSecret();
    const pair = generateStandardWebhookKeyPair();
    const api = await receiver((_request, response) => json(response, 202, { accepted: true }));
    const body = JSON.stringify({ type: "invoice.paid", amount: 12.5, note: "é" });
    const result = await sender().send({ url: new URL(`${api.url}/in`), body, eventId: "msg_abc", secrets: [hmac, pair.secretKey], headers: { "x-extra": "1" } }, signal);
    assert.equal(result.status, 202);
    assert.equal(result.refused, false);
    assert.equal(result.responseBody, '{"accepted":true}');
    const [request] = api.requests;
    assert.ok(request !== undefined);
    assert.equal(request.body, body, "the body is sent exactly as stored");
    assert.equal(request.headers["webhook-id"], "msg_abc");
    assert.equal(request.headers["x-extra"], "1");
    const signatures = String(request.headers["webhook-signature"]).split(" ");
    assert.deepEqual(signatures.map((entry) => entry.split(",")[0]), ["v1", "v1a"]);
    assert.deepEqual(new Webhook(hmac).verify(request.body, request.headers as Record<string, string>), JSON.parse(body));
    const v1a = verifyStandardWebhook(Buffer.from(request.body), request.headers, { secrets: [pair.publicKey] });
    assert.equal(v1a.ok, true, "the v1a signature verifies with the public key");
  });

  test("a literal private address is refused before connecting; an allow entry lets it through", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const refused = await sender({ allowPrivate: false }).send({ url: new URL(api.url), body: "{}", eventId: "msg_1", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    assert.equal(refused.refused, true);
    assert.equal(refused.status, undefined);
    assert.match(refused.error ?? "", /127\.0\.0\.1 is a loopback address; allow it with allow_private: true or allow: \["127\.0\.0\.1"\]/);
    const allowed = await sender({ allowPrivate: false, allow: ["127.0.0.1"] }).send({ url: new URL(api.url), body: "{}", eventId: "msg_1", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    assert.equal(allowed.status, 200);
    assert.equal(api.requests.length, 1);
  });

  test("disguised loopback addresses are refused too: shorthand, hex, IPv4-mapped IPv6, [::1]", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const port = new URL(api.url).port;
    const guarded = sender({ allowPrivate: false });
    for (const host of ["127.1", "0x7f000001", "[::ffff:127.0.0.1]", "[::1]", "169.254.169.254"]) {
      const result = await guarded.send({ url: new URL(`http://${host}:${port}/`), body: "{}", eventId: "msg_d", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
      assert.equal(result.refused, true, `${host} is refused`);
      assert.match(result.error ?? "", /(loopback|link-local) address/);
    }
    assert.equal(api.requests.length, 0);
  });

  test("a redirect is not followed: the 3xx is the answer", async () => {
    const target = await receiver((_request, response) => json(response, 200, {}));
    const redirecting = await receiver((_request, response) => {
      response.writeHead(307, { location: `${target.url}/elsewhere` });
      response.end();
    });
    const result = await sender().send({ url: new URL(redirecting.url), body: "{}", eventId: "msg_r", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    assert.equal(result.status, 307);
    assert.equal(target.requests.length, 0);
  });

  test("Retry-After is read (seconds or HTTP date), and only the start of a long body is kept", async () => {
    const api = await receiver((request, response) => {
      const retryAfter = request.url === "/date" ? new Date(Date.now() + 90_000).toUTCString() : "30";
      response.writeHead(429, { "retry-after": retryAfter, "content-type": "text/plain" });
      response.end("x".repeat(100_000));
    });
    const send = (path: string) => sender().send({ url: new URL(`${api.url}${path}`), body: "{}", eventId: "msg_t", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    const seconds = await send("/seconds");
    assert.equal(seconds.status, 429);
    assert.equal(seconds.retryAfterMs, 30_000);
    assert.equal(seconds.responseBody?.length, LOGGED_RESPONSE_BYTES);
    const date = await send("/date");
    assert.ok((date.retryAfterMs ?? 0) > 80_000 && (date.retryAfterMs ?? 0) <= 90_000);
  });

  test("a timeout cancels the attempt; a network error is reported without the URL's path or query", async () => {
    const api = await receiver(() => {
      // never answers
    });
    const timedOut = await sender({ timeoutMs: 100 }).send({ url: new URL(`${api.url}/x?token=hidden`), body: "{}", eventId: "msg_s", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    assert.equal(timedOut.status, undefined);
    assert.equal(timedOut.aborted, false);
    assert.match(timedOut.error ?? "", /timed out after 100 ms/);
    assert.doesNotMatch(timedOut.error ?? "", /hidden/);

    const closed = await receiver(() => undefined);
    const port = new URL(closed.url).port;
    await closed.close();
    const failed = await sender().send({ url: new URL(`http://127.0.0.1:${port}/x?token=hidden`), body: "{}", eventId: "msg_n", secrets: [generateStandardWebhookSecret()], headers: {} }, signal);
    assert.equal(failed.status, undefined);
    assert.equal(failed.refused, false);
    assert.match(failed.error ?? "", /ECONNREFUSED/);
    assert.doesNotMatch(failed.error ?? "", /hidden/);
  });

  test("an aborted attempt says so, so that it is not recorded", async () => {
    const api = await receiver(() => undefined);
    const controller = new AbortController();
    const pending = sender().send({ url: new URL(api.url), body: "{}", eventId: "msg_a", secrets: [generateStandardWebhookSecret()], headers: {} }, controller.signal);
    for (let tries = 0; api.requests.length === 0 && tries < 500; tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const result = await pending;
    assert.equal(result.aborted, true);
  });
});
