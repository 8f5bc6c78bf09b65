import { parseDuration } from "../core/duration.js";
import { parseSize } from "../core/size.js";
import { isPlainMap } from "./validation/plain-map.js";

type Raw = Record<string, unknown>;

export type InboundVerifierType = "standard" | "stripe" | "github" | "hmac";

export interface InboundVerifierConfig {
  type: InboundVerifierType;
  secrets: string[];
  toleranceMs?: number;
  /** hmac only. */
  header?: string;
  algorithm?: "sha256" | "sha512" | "sha1";
  encoding?: "hex" | "base64";
  prefix?: string;
  secretEncoding?: "utf8" | "base64" | "hex";
  timestampHeader?: string;
  idHeader?: string;
  signedContent?: string;
}

/** An integration reading an inbound endpoint, and the event types it takes (empty: all). */
export interface InboundRoute {
  integration: string;
  events: string[];
}

/** One `webhooks.inbound.<name>` entry as the runtime uses it. */
export interface InboundWebhookConfig {
  name: string;
  path: string;
  verifier: InboundVerifierConfig;
  /** JSONata giving the event type; undefined: the verifier type's default. */
  eventType?: string;
  /** JSONata giving the event id when the signature scheme carries none. */
  eventId?: string;
  maxBodyBytes: number;
  dedupTtlMs: number;
  routes: InboundRoute[];
}

export const INBOUND_DEFAULTS = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  dedupTtlMs: 7 * 86_400_000,
});

const HMAC_FIELDS = {
  header: "header",
  algorithm: "algorithm",
  encoding: "encoding",
  prefix: "prefix",
  secret_encoding: "secretEncoding",
  timestamp_header: "timestampHeader",
  id_header: "idHeader",
  signed_content: "signedContent",
} as const;

export function normaliseInboundVerifier(raw: Raw): InboundVerifierConfig {
  const secrets = Array.isArray(raw.secrets) ? raw.secrets.map(String) : raw.secret === undefined ? [] : [String(raw.secret)];
  const verifier: InboundVerifierConfig = { type: raw.type as InboundVerifierType, secrets };
  if (raw.tolerance !== undefined) {
    const tolerance = parseDuration(raw.tolerance);
    if (tolerance !== undefined) verifier.toleranceMs = tolerance;
  }
  for (const [key, field] of Object.entries(HMAC_FIELDS)) {
    if (typeof raw[key] === "string") (verifier as unknown as Record<string, string>)[field] = raw[key] as string;
  }
  return verifier;
}

/** `routes`: the integrations whose source names this endpoint (filled in by the caller, which sees the integrations). */
export function normaliseInboundWebhook(name: string, raw: Raw, routes: InboundRoute[]): InboundWebhookConfig {
  const config: InboundWebhookConfig = {
    name,
    path: String(raw.path),
    verifier: normaliseInboundVerifier(isPlainMap(raw.verifier) ? raw.verifier : {}),
    maxBodyBytes: raw.max_body === undefined ? INBOUND_DEFAULTS.maxBodyBytes : (parseSize(raw.max_body) ?? INBOUND_DEFAULTS.maxBodyBytes),
    dedupTtlMs: raw.dedup_ttl === undefined ? INBOUND_DEFAULTS.dedupTtlMs : (parseDuration(raw.dedup_ttl) ?? INBOUND_DEFAULTS.dedupTtlMs),
    routes,
  };
  if (typeof raw.event_type === "string") config.eventType = raw.event_type;
  if (typeof raw.event_id === "string") config.eventId = raw.event_id;
  return config;
}
