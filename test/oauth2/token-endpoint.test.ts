import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { authorizationUrl, clientCredentialsToken, exchangeCode, refreshToken } from "../../src/oauth2/index.js";
import { json, startTokenEndpoint } from "./local-token-endpoint.js";
import type { LocalTokenEndpoint } from "./local-token-endpoint.js";

const clientId = "junction client+1";
const clientSecret = "s3cr:et with spaces&symbols=%";
const redirectUri = "http://127.0.0.1:9/callback";
const code = "the-authorization-code-42";

function errorOf(promise: Promise<unknown>): Promise<JunctionError> {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (error: unknown) => {
      assert.ok(error instanceof JunctionError, `a JunctionError, got ${String(error)}`);
      return error;
    },
  );
}

function assertNoSecrets(error: JunctionError, secrets: string[]): void {
  const text = `${error.message} ${JSON.stringify(error.toJSON())} ${String(error.stack)}`;
  for (const secret of secrets) assert.equal(text.includes(secret), false, `the error must not contain ${secret}`);
}

describe("token endpoint requests", () => {
  let endpoint: LocalTokenEndpoint;
  before(async () => {
    endpoint = await startTokenEndpoint((_req, res) => json(res, 200, { access_token: "at-1", token_type: "Bearer", expires_in: 3600, refresh_token: "rt-1", scope: "read" }));
  });
  after(() => endpoint.close());

  function reset(answer = endpoint.answer): void {
    endpoint.requests.length = 0;
    endpoint.answer = answer;
  }

  test("exchangeCode POSTs a form-encoded authorization_code grant with the PKCE verifier and Basic client credentials", async () => {
    reset();
    const { codeVerifier } = authorizationUrl({ authorizeUrl: "https://auth.example.com/authorize", clientId, redirectUri });
    const token = await exchangeCode({ tokenUrl: endpoint.url, clientId, clientSecret, code, redirectUri, codeVerifier, authMethod: "client_secret_basic", now: () => 1_000_000 });

    assert.equal(endpoint.requests.length, 1);
    const request = endpoint.requests[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(request.headers["accept"], "application/json");
    assert.throws(() => JSON.parse(request.body) as unknown, "the body is not JSON");
    assert.deepEqual(Object.fromEntries(request.form), {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: codeVerifier,
      client_id: clientId,
    });
    // RFC 6749 §2.3.1: id and secret are form-urlencoded, joined with ":", then Base64.
    const form = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);
    const expected = `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString("base64")}`;
    assert.equal(request.headers["authorization"], expected);
    const decoded = Buffer.from(String(request.headers["authorization"]).slice(6), "base64").toString();
    assert.equal(decoded, "junction+client%2B1:s3cr%3Aet+with+spaces%26symbols%3D%25");

    assert.equal(token.accessToken, "at-1");
    assert.equal(token.tokenType, "Bearer");
    assert.equal(token.expiresAt, 1_000_000 + 3_600_000);
    assert.equal(token.refreshToken, "rt-1");
    assert.equal(token.scope, "read");
    assert.equal(token.raw["access_token"], "at-1");
  });

  test("client_secret_post puts the credentials in the body and sends no Authorization header", async () => {
    reset();
    const { codeVerifier } = authorizationUrl({ authorizeUrl: "https://auth.example.com/authorize", clientId, redirectUri });
    await exchangeCode({ tokenUrl: endpoint.url, clientId, clientSecret, code, redirectUri, codeVerifier, authMethod: "client_secret_post" });
    const request = endpoint.requests[0]!;
    assert.equal(request.headers["authorization"], undefined);
    assert.equal(request.form.get("client_id"), clientId);
    assert.equal(request.form.get("client_secret"), clientSecret);
    assert.equal(request.form.get("grant_type"), "authorization_code");
  });

  test("a public client (no secret) sends only client_id", async () => {
    reset();
    const { codeVerifier } = authorizationUrl({ authorizeUrl: "https://auth.example.com/authorize", clientId, redirectUri });
    await exchangeCode({ tokenUrl: endpoint.url, clientId, code, redirectUri, codeVerifier });
    const request = endpoint.requests[0]!;
    assert.equal(request.headers["authorization"], undefined);
    assert.equal(request.form.get("client_secret"), null);
    assert.equal(request.form.get("client_id"), clientId);
  });

  test("refreshToken sends a refresh_token grant and keeps the old refresh token when none is returned", async () => {
    reset((_req, res) => json(res, 200, { access_token: "at-2", token_type: "Bearer", expires_in: "60" }));
    const token = await refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-old", authMethod: "client_secret_basic", now: () => 5000 });
    const request = endpoint.requests[0]!;
    assert.equal(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(Object.fromEntries(request.form), { grant_type: "refresh_token", refresh_token: "rt-old", client_id: clientId });
    assert.equal(token.accessToken, "at-2");
    assert.equal(token.refreshToken, "rt-old");
    assert.equal(token.expiresAt, 5000 + 60_000);

    reset((_req, res) => json(res, 200, { access_token: "at-3", token_type: "Bearer", refresh_token: "rt-rotated" }));
    const rotated = await refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-old", scope: ["read"] });
    assert.equal(endpoint.requests[0]!.form.get("scope"), "read");
    assert.equal(rotated.refreshToken, "rt-rotated");
    assert.equal(rotated.expiresAt, undefined);
  });

  test("clientCredentialsToken sends a client_credentials grant", async () => {
    reset();
    await clientCredentialsToken({ tokenUrl: endpoint.url, clientId, clientSecret, scope: "a b", extraParams: { audience: "https://api" } });
    assert.deepEqual(Object.fromEntries(endpoint.requests[0]!.form), { audience: "https://api", grant_type: "client_credentials", scope: "a b", client_id: clientId });
  });

  test("invalid_grant is a clear auth error with the server's text and without any secret", async () => {
    reset((req, res) =>
      json(res, 400, { error: "invalid_grant", error_description: `Code ${req.form.get("code")} expired; verifier ${req.form.get("code_verifier")} secret ${clientSecret}` }),
    );
    const { codeVerifier } = authorizationUrl({ authorizeUrl: "https://auth.example.com/authorize", clientId, redirectUri });
    const error = await errorOf(exchangeCode({ tokenUrl: endpoint.url, clientId, clientSecret, code, redirectUri, codeVerifier, authMethod: "client_secret_post" }));
    assert.equal(error.kind, "auth");
    assert.equal(error.code, "oauth2.invalid_grant");
    assert.match(error.message, /invalid_grant/);
    assert.match(error.message, /expired/);
    assert.match(error.message, /start the authorization again/);
    assertNoSecrets(error, [clientSecret, code, codeVerifier]);

    reset((_req, res) => json(res, 400, { error: "invalid_grant", error_description: "Token has been expired or revoked." }));
    const refreshError = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-secret-value" }));
    assert.equal(refreshError.kind, "auth");
    assert.match(refreshError.message, /authorize again/);
    assertNoSecrets(refreshError, [clientSecret, "rt-secret-value"]);
  });

  test("invalid_client with a 401 is an auth error telling what to check", async () => {
    reset((_req, res) => json(res, 401, { error: "invalid_client" }, { "www-authenticate": "Basic" }));
    const error = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(error.kind, "auth");
    assert.match(error.message, /clientSecret and authMethod/);
    assertNoSecrets(error, [clientSecret]);
  });

  test("GitHub style: a form-encoded answer is read, and an error sent with HTTP 200 is still an error", async () => {
    reset((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
      res.end("access_token=gho_abc&scope=repo%2Cgist&token_type=bearer");
    });
    const token = await refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1" });
    assert.deepEqual([token.accessToken, token.tokenType, token.scope, token.expiresAt], ["gho_abc", "bearer", "repo,gist", undefined]);

    reset((_req, res) =>
      json(res, 200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired.", error_uri: "https://docs.github.com" }),
    );
    const { codeVerifier } = authorizationUrl({ authorizeUrl: "https://auth.example.com/authorize", clientId, redirectUri });
    const error = await errorOf(exchangeCode({ tokenUrl: endpoint.url, clientId, clientSecret, code, redirectUri, codeVerifier, authMethod: "client_secret_post" }));
    assert.equal(error.kind, "auth");
    assert.match(error.message, /bad_verification_code \(The code passed is incorrect or expired\.\)/);
  });

  test("503 with Retry-After is transient and carries the wait; a 500 HTML page is transient too", async () => {
    reset((_req, res) => {
      res.writeHead(503, { "retry-after": "7", "content-type": "text/plain" });
      res.end("busy");
    });
    const error = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(error.kind, "transient");
    assert.equal(error.retryAfterMs, 7000);

    reset((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" });
      res.end(`<html>oops rt-1 ${clientSecret}</html>`);
    });
    const serverError = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-secret-1" }));
    assert.equal(serverError.kind, "transient");
    assertNoSecrets(serverError, [clientSecret, "rt-secret-1"]);
  });

  test("a 2xx answer that is not a token is a permanent error", async () => {
    reset((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>login page</html>");
    });
    const error = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /neither JSON nor form-encoded/);

    reset((_req, res) => json(res, 200, { token_type: "Bearer" }));
    const noToken = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(noToken.code, "oauth2.no_access_token");
  });

  test("an endpoint that does not answer in time is a transient timeout", async () => {
    reset(() => {
      /* never answers */
    });
    const started = Date.now();
    const error = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1", timeoutMs: 200 }));
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "oauth2.timeout");
    assert.ok(Date.now() - started < 5000);
  });

  test("an aborted signal cancels the request", async () => {
    reset(() => {
      /* never answers */
    });
    const controller = new AbortController();
    const pending = refreshToken({ tokenUrl: endpoint.url, clientId, clientSecret, refreshToken: "rt-1", signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (error: unknown) => (error as Error).name === "AbortError");
  });

  test("configuration mistakes are config errors before any request", async () => {
    reset();
    const missingSecret = await errorOf(refreshToken({ tokenUrl: endpoint.url, clientId, refreshToken: "rt-1", authMethod: "client_secret_basic" }));
    assert.equal(missingSecret.kind, "config");
    const badVerifier = await errorOf(exchangeCode({ tokenUrl: endpoint.url, clientId, clientSecret, code, redirectUri, codeVerifier: "short" }));
    assert.equal(badVerifier.kind, "config");
    const insecure = await errorOf(refreshToken({ tokenUrl: "http://auth.example.com/token", clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(insecure.kind, "config");
    assert.equal(endpoint.requests.length, 0);
  });
});

describe("an unreachable token endpoint", () => {
  test("is a transient error", async () => {
    const closed = await startTokenEndpoint(() => {});
    const url = closed.url;
    await closed.close();
    const error = await errorOf(refreshToken({ tokenUrl: url, clientId, clientSecret, refreshToken: "rt-1" }));
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "oauth2.unreachable");
    assertNoSecrets(error, [clientSecret, "rt-1"]);
  });
});
