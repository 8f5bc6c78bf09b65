import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { transientError } from "../../src/core/errors.js";
import { clientCredentialsToken, refreshToken, RefreshingToken, tokenNeedsRefresh } from "../../src/oauth2/index.js";
import type { TokenSet } from "../../src/oauth2/index.js";
import { json, startTokenEndpoint } from "./local-token-endpoint.js";
import type { LocalTokenEndpoint } from "./local-token-endpoint.js";

const client = { clientId: "svc", clientSecret: "svc-secret-value" };

/** A clock the test moves by hand. */
function fakeClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

function token(accessToken: string, expiresAt?: number): TokenSet {
  return { accessToken, tokenType: "Bearer", ...(expiresAt !== undefined ? { expiresAt } : {}), raw: {} };
}

describe("tokenNeedsRefresh", () => {
  test("is true from skewMs before expiresAt on, and never for a token without expiry", () => {
    assert.equal(tokenNeedsRefresh({ expiresAt: 10_000 }, 8_999, 1000), false);
    assert.equal(tokenNeedsRefresh({ expiresAt: 10_000 }, 9_000, 1000), true);
    assert.equal(tokenNeedsRefresh({ expiresAt: 10_000 }, 10_001), true);
    assert.equal(tokenNeedsRefresh({}, Number.MAX_SAFE_INTEGER, 1000), false);
  });
});

describe("RefreshingToken against a local token endpoint", () => {
  let endpoint: LocalTokenEndpoint;
  before(async () => {
    endpoint = await startTokenEndpoint(async (_req, res, index) => {
      await delay(50); // long enough for every concurrent caller to arrive while the request is in flight
      json(res, 200, { access_token: `at-${index + 1}`, token_type: "Bearer", expires_in: 2, refresh_token: `rt-${index + 1}` });
    });
  });
  after(() => endpoint.close());

  test("100 concurrent get() calls cause one token request and all get the same token", async () => {
    endpoint.requests.length = 0;
    const holder = new RefreshingToken({ fetch: () => clientCredentialsToken({ tokenUrl: endpoint.url, ...client }) });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => holder.get()));
    assert.equal(endpoint.requests.length, 1);
    assert.equal(endpoint.requests[0]!.form.get("grant_type"), "client_credentials");
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
    assert.equal((await holder.get()).accessToken, tokens[0]!.accessToken);
    assert.equal(endpoint.requests.length, 1, "a valid token is served from memory");
  });

  test("a token with expires_in 2 and a skew of 1 s is refreshed once the clock passes the skew point", async () => {
    endpoint.requests.length = 0;
    const clock = fakeClock();
    const holder = new RefreshingToken({
      skewMs: 1000,
      now: clock.now,
      initial: await refreshToken({ tokenUrl: endpoint.url, ...client, refreshToken: "rt-0", now: clock.now }),
      fetch: (current) => refreshToken({ tokenUrl: endpoint.url, ...client, refreshToken: current!.refreshToken!, now: clock.now }),
    });
    const first = holder.current!;
    assert.equal(first.expiresAt, clock.now() + 2000);
    assert.equal(endpoint.requests.length, 1);

    clock.advance(999);
    assert.equal((await holder.get()).accessToken, first.accessToken, "before the skew point the held token is used");
    assert.equal(endpoint.requests.length, 1);

    clock.advance(1);
    const concurrent = await Promise.all(Array.from({ length: 100 }, () => holder.get()));
    assert.equal(endpoint.requests.length, 2, "one refresh for 100 callers");
    assert.equal(endpoint.requests[1]!.form.get("grant_type"), "refresh_token");
    assert.equal(endpoint.requests[1]!.form.get("refresh_token"), first.refreshToken);
    const second = concurrent[0]!;
    assert.notEqual(second.accessToken, first.accessToken);
    assert.ok(concurrent.every((t) => t === second));
    assert.ok(second.expiresAt! > first.expiresAt!);
    assert.ok(clock.now() < first.expiresAt!, "the refresh happened before the old token expired");

    clock.advance(500);
    assert.equal((await holder.get()).accessToken, second.accessToken);
    assert.equal(endpoint.requests.length, 2);
  });
});

describe("RefreshingToken", () => {
  test("a token living shorter than the skew is not refreshed on every call", async () => {
    const clock = fakeClock();
    let fetches = 0;
    const holder = new RefreshingToken({
      now: clock.now,
      skewMs: 60_000,
      fetch: () => Promise.resolve(token(`t${++fetches}`, clock.now() + 2000)),
    });
    await holder.get();
    await holder.get();
    assert.equal(fetches, 1);
    clock.advance(1000);
    await holder.get();
    assert.equal(fetches, 2, "refreshed at half its lifetime");
  });

  test("a failed refresh rejects every waiting caller, and the next get() tries again", async () => {
    let calls = 0;
    const holder = new RefreshingToken({
      fetch: async () => {
        calls++;
        await delay(10);
        if (calls === 1) throw transientError("token endpoint down");
        return token("ok");
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => holder.get()));
    assert.ok(results.every((r) => r.status === "rejected" && /token endpoint down/.test(String(r.reason))));
    assert.equal(calls, 1);
    assert.equal((await holder.get()).accessToken, "ok");
    assert.equal(calls, 2);
  });

  test("a fetch that throws synchronously does not jam later calls", async () => {
    let calls = 0;
    const holder = new RefreshingToken({
      fetch: () => {
        if (++calls === 1) throw new Error("boom");
        return Promise.resolve(token("ok"));
      },
    });
    await assert.rejects(holder.get(), /boom/);
    assert.equal((await holder.get()).accessToken, "ok");
  });

  test("invalidate(failed) forces one refresh for a burst of 401s on the same old token", async () => {
    let fetches = 0;
    const holder = new RefreshingToken({ initial: token("old"), fetch: () => Promise.resolve(token(`new-${++fetches}`)) });
    const old = await holder.get();
    assert.equal(fetches, 0, "a token without expiry is kept");
    holder.invalidate(old);
    const renewed = await holder.get();
    assert.equal(renewed.accessToken, "new-1");
    holder.invalidate(old); // a late 401 on the old token changes nothing
    assert.equal((await holder.get()).accessToken, "new-1");
    assert.equal(fetches, 1);
  });

  test("a caller that aborts stops waiting while the shared refresh completes for the others", async () => {
    const holder = new RefreshingToken({ fetch: () => delay(50).then(() => token("shared")) });
    const controller = new AbortController();
    const impatient = holder.get(controller.signal);
    const patient = holder.get();
    controller.abort();
    await assert.rejects(impatient, (error: unknown) => (error as Error).name === "AbortError");
    assert.equal((await patient).accessToken, "shared");
  });

  test("close() aborts the refresh in flight and later calls", async () => {
    let seen: AbortSignal | undefined;
    const holder = new RefreshingToken({
      fetch: (_current, signal) => {
        seen = signal;
        return new Promise<TokenSet>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
      },
    });
    const pending = holder.get();
    await delay(1);
    holder.close();
    await assert.rejects(pending, /closed/);
    assert.equal(seen?.aborted, true);
    await assert.rejects(holder.get(), /closed/);
  });
});
