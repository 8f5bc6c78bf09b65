import { abortable, abortError, throwIfAborted } from "../core/abort.js";
import type { TokenSet } from "./token-set.js";

export interface RefreshingTokenOptions {
  /**
   * Gets a new token. `current` is the token being replaced (undefined the first time), so a
   * refresh-token grant can read `current.refreshToken`. Persist rotated refresh tokens here.
   * `signal` aborts when the RefreshingToken is closed.
   */
  fetch(current: TokenSet | undefined, signal: AbortSignal): Promise<TokenSet>;
  /** A token you already have (e.g. from `exchangeCode` or storage); without one, the first `get()` fetches. */
  initial?: TokenSet;
  /** Refresh this long before `expiresAt`, or at half the lifetime of a token that lives less than twice as long. Default 60 000 ms. */
  skewMs?: number;
  /** The clock `expiresAt` is measured on, ms since the epoch; the same one the grants use. Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_SKEW_MS = 60_000;

/**
 * Holds an access token and replaces it before it expires. Concurrent `get()` callers share
 * one refresh: however many requests arrive while a token is being fetched, the token endpoint
 * sees one request. A failed refresh rejects every waiting caller with its error; the next
 * `get()` tries again.
 *
 *   const token = new RefreshingToken({
 *     initial: await exchangeCode({ ... }),
 *     fetch: (current) => refreshToken({ provider: providers.google, clientId, clientSecret, refreshToken: current!.refreshToken! }),
 *   });
 *   const { accessToken } = await token.get(signal);
 */
export class RefreshingToken {
  readonly #fetch: RefreshingTokenOptions["fetch"];
  readonly #skewMs: number;
  readonly #now: () => number;
  readonly #closed = new AbortController();
  #token: TokenSet | undefined;
  /** When #token must be replaced, ms on #now's clock; undefined when it never expires by time. */
  #refreshAt: number | undefined;
  #stale = false;
  #inflight: Promise<TokenSet> | undefined;

  constructor(options: RefreshingTokenOptions) {
    this.#fetch = options.fetch;
    this.#skewMs = Math.max(0, options.skewMs ?? DEFAULT_SKEW_MS);
    this.#now = options.now ?? Date.now;
    if (options.initial) this.#hold(options.initial, undefined);
  }

  /** The token held now, without refreshing (undefined before the first fetch). */
  get current(): TokenSet | undefined {
    return this.#token;
  }

  /** A token that is not about to expire: the held one, or the result of the refresh in flight or of a new one. */
  get(signal?: AbortSignal): Promise<TokenSet> {
    if (this.#closed.signal.aborted) return Promise.reject(abortError(this.#closed.signal));
    try {
      throwIfAborted(signal);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const token = this.#token;
    if (token && !this.#stale && (this.#refreshAt === undefined || this.#now() < this.#refreshAt)) return Promise.resolve(token);
    const refresh = this.#inflight ?? this.#startRefresh();
    // A caller that gives up stops waiting; the shared refresh goes on for the others.
    return signal ? abortable(refresh, signal) : refresh;
  }

  /**
   * Marks the token as unusable (the API answered 401 with it), so the next `get()` refreshes.
   * Pass the token that failed: when it was already replaced, nothing happens, so a burst of
   * 401s on one old token causes one refresh, not one each.
   */
  invalidate(failed?: TokenSet): void {
    if (failed === undefined || failed === this.#token) this.#stale = true;
  }

  /** Aborts a refresh in flight; later `get()` calls reject. */
  close(): void {
    this.#closed.abort(new Error("RefreshingToken was closed"));
  }

  #hold(token: TokenSet, obtainedAt: number | undefined): void {
    this.#token = token;
    this.#stale = false;
    if (token.expiresAt === undefined) {
      this.#refreshAt = undefined;
      return;
    }
    // A token fetched here has a known lifetime: never plan its refresh before half of it, or a
    // token that lives less than the skew would be refreshed on every call.
    const skew = obtainedAt === undefined ? this.#skewMs : Math.min(this.#skewMs, Math.max(0, token.expiresAt - obtainedAt) / 2);
    this.#refreshAt = token.expiresAt - skew;
  }

  #startRefresh(): Promise<TokenSet> {
    const current = this.#token;
    const signal = this.#closed.signal;
    // Every step is a callback, so #inflight is set before the refresh can settle and clear it.
    const refresh: Promise<TokenSet> = Promise.resolve()
      .then(() => this.#fetch(current, signal))
      .then((token) => {
        throwIfAborted(signal);
        this.#hold(token, this.#now());
        return token;
      })
      .finally(() => {
        if (this.#inflight === refresh) this.#inflight = undefined;
      });
    this.#inflight = refresh;
    return refresh;
  }
}
