/** Why a webhook request was rejected; stable values that runtimes map to responses and metrics. */
export type VerifyFailureReason =
  /** A required header is absent or empty. */
  | "missing_header"
  /** A header is present but cannot be parsed (non-numeric timestamp, no `version,signature` entry, duplicates…), or the body is not raw bytes. */
  | "malformed"
  /** The timestamp is older than the tolerance allows: a late delivery or a replay. */
  | "stale"
  /** The timestamp is further in the future than the tolerance allows. */
  | "future"
  /** No signature in the request matches any configured secret or key. */
  | "bad_signature";

export interface VerifySuccess {
  ok: true;
  /** Message or delivery id (`webhook-id`, `X-GitHub-Delivery`, …) when the scheme carries one: the key for replay protection. */
  id?: string;
  /** Signed timestamp in unix seconds when the scheme carries one. */
  timestamp?: number;
  /** Position, in the configured list, of the secret or key that matched: shows when an old secret can be retired. */
  keyIndex: number;
}

export interface VerifyFailure {
  ok: false;
  reason: VerifyFailureReason;
  /** Safe to log and to return to the sender: never contains a secret or the expected signature. */
  message: string;
}

export type VerifyResult = VerifySuccess | VerifyFailure;

/**
 * Request headers as Node (`IncomingHttpHeaders`), a plain object with any letter case, or a fetch `Headers`.
 * Names are matched case-insensitively.
 */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** One secret, or several during a rotation: any of them verifies. */
export type SecretList = string | readonly string[];

export type VerifierType = "standard" | "stripe" | "github" | "hmac";

/** A verifier with its secrets and options parsed once; `verify` never throws on request input. */
export interface WebhookVerifier {
  readonly type: VerifierType;
  /** `now` is the current time in milliseconds (defaults to `Date.now()`). */
  verify(body: Buffer, headers: HeaderSource, now?: number): VerifyResult;
}

/** Current time in milliseconds, for the free functions; tests pass a fixed value. */
export interface ClockOption {
  now?: number;
}
