import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { httpConnector } from "../../../src/connectors/http/index.js";
import type { HttpConnectionConfig, HttpSinkOptions } from "../../../src/connectors/http/schema.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { JunctionError } from "../../../src/core/errors.js";
import { runtimeContext, sinkContext } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import type { LocalApi } from "./local-api.js";

const CLIENT_SECRET = "s3cr3t-client-value+/=";

interface IssuedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

/** A token endpoint and an API that accepts only tokens it issued, unexpired and not revoked. */
async function startAuthServer(
  lifetimeSeconds: number | undefined,
): Promise<{ auth: LocalApi; apiServer: LocalApi; issued: IssuedToken[]; revoked: Set<string>; rejectAll: { on: boolean }; rejected: string[] }> {
  const issued: IssuedToken[] = [];
  const rejected: string[] = [];
  const revoked = new Set<string>();
  const rejectAll = { on: false };
  const auth = await startLocalApi(async (request, response) => {
    await delay(50); // long enough for concurrent callers to pile up
    const form = new URLSearchParams(request.body);
    if (form.get("grant_type") !== "client_credentials") return json(response, 400, { error: "unsupported_grant_type" });
    const basic = request.headers.authorization?.replace(/^Basic /, "");
    const [id, secret] = basic === undefined ? [form.get("client_id"), form.get("client_secret")] : Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent);
    if (id !== "junction-client" || secret !== CLIENT_SECRET) return json(response, 401, { error: "invalid_client", error_description: "bad client credentials" });
    const token = `tok-${issued.length + 1}`;
    const now = Date.now();
    issued.push({ token, issuedAt: now, expiresAt: now + (lifetimeSeconds ?? 3600) * 1000 });
    json(response, 200, { access_token: token, token_type: "Bearer", ...(lifetimeSeconds === undefined ? {} : { expires_in: lifetimeSeconds }) });
  });
  const apiServer = await startLocalApi((request, response) => {
    const token = request.headers.authorization?.replace(/^Bearer /, "");
    const known = issued.find((candidate) => candidate.token === token);
    if (rejectAll.on || known === undefined || revoked.has(known.token) || Date.now() >= known.expiresAt) {
      rejected.push(String(token));
      return json(response, 401, { error: "invalid_token" });
    }
    json(response, 200, { ok: true });
  });
  return { auth, apiServer, issued, revoked, rejectAll, rejected };
}

describe("http target with OAuth2 client credentials", () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function setUp(lifetimeSeconds: number | undefined, auth: Partial<Extract<NonNullable<HttpConnectionConfig["auth"]>, { type: "oauth2_client_credentials" }>> = {}, options: HttpSinkOptions = {}) {
    const servers = await startAuthServer(lifetimeSeconds);
    cleanup.push(() => servers.auth.close(), () => servers.apiServer.close());
    const config: HttpConnectionConfig = {
      base_url: servers.apiServer.url,
      auth: { type: "oauth2_client_credentials", token_url: `${servers.auth.url}/oauth/token`, client_id: "junction-client", client_secret: CLIENT_SECRET, scope: ["charges:write", "charges:read"], audience: "https://api", ...auth },
    };
    const connection = (await httpConnector.connect(config, runtimeContext(process.cwd()))) as Connection<never, HttpSinkOptions>;
    cleanup.push(() => connection.close());
    const sink = (connection.sink as NonNullable<typeof connection.sink>)(options, sinkContext) as Sink;
    return { ...servers, sink };
  }

  test("100 concurrent calls fetch the token once, with a form-encoded client_credentials request", async () => {
    const { auth, apiServer, sink } = await setUp(3600, {}, { concurrency: 100 });
    const writes = await Promise.all(Array.from({ length: 4 }, () => sink.write(Array.from({ length: 25 }, (_, n) => createMessage({ payload: { n } })), new AbortController().signal)));
    assert.deepEqual(
      writes.flatMap((outcome) => outcome.failures),
      [],
    );
    assert.equal(apiServer.requests.length, 100);
    assert.equal(auth.requests.length, 1, "one token request for 100 concurrent calls");
    const [tokenRequest] = auth.requests;
    assert.equal(tokenRequest?.method, "POST");
    assert.equal(tokenRequest?.url, "/oauth/token");
    assert.equal(tokenRequest?.headers["content-type"], "application/x-www-form-urlencoded");
    const form = new URLSearchParams(tokenRequest?.body);
    assert.equal(form.get("grant_type"), "client_credentials");
    assert.equal(form.get("scope"), "charges:write charges:read");
    assert.equal(form.get("audience"), "https://api");
    assert.equal(form.get("client_secret"), null, "client_secret_basic keeps the secret out of the body");
    assert.doesNotThrow(() => new URLSearchParams(tokenRequest?.body ?? ""));
    assert.throws(() => JSON.parse(tokenRequest?.body ?? ""), "the body is not JSON");
  });

  test("client_secret_post sends the credentials in the form body", async () => {
    const { auth, sink } = await setUp(3600, { auth_method: "client_secret_post" });
    assert.deepEqual((await sink.write([createMessage({ payload: {} })], new AbortController().signal)).failures, []);
    const form = new URLSearchParams(auth.requests[0]?.body);
    assert.equal(form.get("client_id"), "junction-client");
    assert.equal(form.get("client_secret"), CLIENT_SECRET);
    assert.equal(auth.requests[0]?.headers.authorization, undefined);
  });

  test("a token expiring in a few seconds is refreshed before it expires", async () => {
    const { issued, rejected, sink } = await setUp(5);
    const signal = new AbortController().signal;
    assert.deepEqual((await sink.write([createMessage({ payload: {} })], signal)).failures, []);
    const deadline = (issued[0] as IssuedToken).expiresAt;
    // Keep calling until just before the first token expires: a call in the last 10 % of its life gets a new one.
    while (Date.now() < deadline - 100) {
      assert.deepEqual((await sink.write([createMessage({ payload: {} })], signal)).failures, []);
      await delay(100);
    }
    assert.equal(issued.length, 2, "exactly one refresh");
    assert.ok((issued[1] as IssuedToken).issuedAt < deadline, "the second token was fetched before the first expired");
    assert.deepEqual(rejected, [], "the API never saw an expired token");
  });

  test("a 401 from the API fetches a new token once and retries; a persistent 401 is an auth error without looping", async () => {
    const { issued, revoked, rejectAll, apiServer, sink } = await setUp(3600);
    const signal = new AbortController().signal;
    assert.deepEqual((await sink.write([createMessage({ payload: {} })], signal)).failures, []);
    revoked.add("tok-1");
    const before = apiServer.requests.length;
    assert.deepEqual((await sink.write([createMessage({ payload: {} })], signal)).failures, []);
    assert.equal(issued.length, 2, "one refresh after the 401");
    assert.equal(apiServer.requests.length - before, 2, "the request was sent twice: 401, then 200");

    rejectAll.on = true;
    const outcome = await sink.write([createMessage({ payload: {} })], signal);
    const error = outcome.failures[0]?.error as JunctionError;
    assert.equal(error.kind, "auth");
    assert.equal(issued.length, 3, "exactly one more refresh, no loop");
  });

  test("rejected client credentials are an auth error that never shows the secret", async () => {
    const { auth, sink } = await setUp(3600, { client_secret: "wrong-secret-value" });
    const outcome = await sink.write([createMessage({ payload: {} })], new AbortController().signal);
    const error = outcome.failures[0]?.error as JunctionError;
    assert.equal(error.kind, "auth");
    assert.match(error.message, /invalid_client/);
    assert.doesNotMatch(error.message, /wrong-secret-value/);
    assert.equal(auth.requests.length, 1);
  });
});
