import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { authorizationUrl, codeChallengeS256, providers, verifyState } from "../../src/oauth2/index.js";

const base = { authorizeUrl: "https://auth.example.com/authorize", clientId: "client 1", redirectUri: "https://app.example.com/callback" };

describe("authorizationUrl", () => {
  test("includes response_type=code, client_id, redirect_uri, scope, state and an S256 PKCE challenge", () => {
    const { url, state, codeVerifier } = authorizationUrl({ ...base, scope: ["read", "write"] });
    const parsed = new URL(url);
    assert.equal(parsed.origin + parsed.pathname, base.authorizeUrl);
    const q = parsed.searchParams;
    assert.equal(q.get("response_type"), "code");
    assert.equal(q.get("client_id"), "client 1");
    assert.equal(q.get("redirect_uri"), base.redirectUri);
    assert.equal(q.get("scope"), "read write");
    assert.equal(q.get("state"), state);
    assert.equal(q.get("code_challenge_method"), "S256");
    const recomputed = createHash("sha256").update(codeVerifier).digest("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    assert.equal(q.get("code_challenge"), recomputed);
    assert.equal(codeChallengeS256(codeVerifier), recomputed);
    assert.equal(url.includes(codeVerifier), false, "the verifier itself never leaves the app");
  });

  test("the code_verifier is 43–128 characters of the unreserved set", () => {
    for (let i = 0; i < 50; i++) {
      const { codeVerifier } = authorizationUrl(base);
      assert.match(codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
    }
  });

  test("the RFC 7636 appendix B example challenge is reproduced", () => {
    assert.equal(codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  test("state is crypto random base64url of at least 128 bits and differs every time", () => {
    const states = new Set<string>();
    const verifiers = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { state, codeVerifier } = authorizationUrl(base);
      assert.match(state, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(state, "base64url").length * 8 >= 128);
      states.add(state);
      verifiers.add(codeVerifier);
    }
    assert.equal(states.size, 1000);
    assert.equal(verifiers.size, 1000);
  });

  test("a state of your own is used as given", () => {
    const { url, state } = authorizationUrl({ ...base, state: "mine-123" });
    assert.equal(state, "mine-123");
    assert.equal(new URL(url).searchParams.get("state"), "mine-123");
  });

  test("extraParams are added, existing query parameters kept, protected ones refused", () => {
    const { url } = authorizationUrl({ ...base, authorizeUrl: `${base.authorizeUrl}?tenant=acme`, extraParams: { prompt: "consent" } });
    const q = new URL(url).searchParams;
    assert.equal(q.get("tenant"), "acme");
    assert.equal(q.get("prompt"), "consent");
    for (const name of ["code_challenge_method", "state", "code_challenge", "redirect_uri"]) {
      assert.throws(
        () => authorizationUrl({ ...base, extraParams: { [name]: "plain" } }),
        (error: unknown) => error instanceof JunctionError && error.kind === "config" && error.message.includes(name),
      );
    }
  });

  test("provider presets give the GitHub and Google endpoints", () => {
    const github = new URL(authorizationUrl({ provider: providers.github, clientId: "id", redirectUri: base.redirectUri, scope: "repo" }).url);
    assert.equal(github.origin + github.pathname, "https://github.com/login/oauth/authorize");
    const google = new URL(
      authorizationUrl({
        provider: providers.google,
        clientId: "id",
        redirectUri: base.redirectUri,
        scope: "openid email",
        extraParams: { access_type: "offline" },
      }).url,
    );
    assert.equal(google.origin + google.pathname, "https://accounts.google.com/o/oauth2/v2/auth");
    assert.equal(google.searchParams.get("access_type"), "offline");
    assert.equal(providers.github.tokenUrl, "https://github.com/login/oauth/access_token");
    assert.equal(providers.google.tokenUrl, "https://oauth2.googleapis.com/token");
  });

  test("plain http is refused except for loopback, and a missing endpoint is a config error", () => {
    assert.throws(() => authorizationUrl({ ...base, authorizeUrl: "http://auth.example.com/authorize" }), /must use https/);
    assert.doesNotThrow(() => authorizationUrl({ ...base, authorizeUrl: "http://127.0.0.1:9/authorize" }));
    assert.doesNotThrow(() => authorizationUrl({ ...base, authorizeUrl: "http://localhost:9/authorize" }));
    assert.throws(
      () => authorizationUrl({ clientId: "id", redirectUri: base.redirectUri }),
      (error: unknown) => error instanceof JunctionError && error.kind === "config" && /authorizeUrl/.test(error.message),
    );
  });
});

describe("verifyState", () => {
  test("accepts the same state and rejects a mismatch, a prefix, or a missing value", () => {
    const { state } = authorizationUrl(base);
    assert.equal(verifyState(state, state), true);
    assert.equal(verifyState(state, `${state.slice(0, -1)}${state.endsWith("A") ? "B" : "A"}`), false);
    assert.equal(verifyState(state, state.slice(0, 10)), false);
    assert.equal(verifyState(state, `${state}x`), false);
    assert.equal(verifyState(state, authorizationUrl(base).state), false);
    assert.equal(verifyState(state, null), false);
    assert.equal(verifyState(state, ""), false);
    assert.equal(verifyState(undefined, undefined), false);
    assert.equal(verifyState("", ""), false);
  });
});
