import { parseDuration } from "../core/duration.js";
import { isPlainMap } from "./validation/plain-map.js";

type Raw = Record<string, unknown>;

export interface OutboundEndpointConfig {
  name: string;
  url: string;
  /** Event type filters; empty = every event. */
  events: string[];
  /** Signing keys (whsec_… → v1, whsk_… → v1a); one signature per key. */
  secrets: string[];
  throttle?: { limit: number; perMs: number };
  concurrency: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

/** One `webhooks.outbound.<name>` entry as the runtime uses it (camelCase, milliseconds, defaults filled in). */
export interface OutboundWebhookConfig {
  name: string;
  /** JSONata giving the event type. */
  eventType: string;
  /** JSONata giving the body. */
  payload: string;
  /** Delay before each attempt; the length is the number of attempts. */
  scheduleMs: number[];
  disableAfterMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
  allow: string[];
  concurrency: number;
  endpoints: Record<string, OutboundEndpointConfig>;
}

/** Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 28 hours. */
export const DEFAULT_SCHEDULE_MS: readonly number[] = Object.freeze([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);

export const OUTBOUND_DEFAULTS = {
  eventType: "type",
  payload: "$",
  disableAfterMs: 5 * 86_400_000,
  timeoutMs: 15_000,
  concurrency: 32,
  endpointConcurrency: 4,
  throttlePerMs: 1_000,
} as const;

function map(value: unknown): Raw {
  return isPlainMap(value) ? value : {};
}

function ms(value: unknown, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** The schema-valid entry `webhooks.outbound.<name>` as the runtime model. */
export function normaliseOutboundWebhook(name: string, raw: Raw): OutboundWebhookConfig {
  const endpoints: Record<string, OutboundEndpointConfig> = {};
  for (const [endpointName, block] of Object.entries(map(raw.endpoints))) endpoints[endpointName] = normaliseEndpoint(endpointName, map(block));
  return {
    name,
    eventType: typeof raw.event_type === "string" ? raw.event_type : OUTBOUND_DEFAULTS.eventType,
    payload: typeof raw.payload === "string" ? raw.payload : OUTBOUND_DEFAULTS.payload,
    scheduleMs: Array.isArray(raw.schedule) ? raw.schedule.map((delay) => ms(delay, 0)) : [...DEFAULT_SCHEDULE_MS],
    disableAfterMs: ms(raw.disable_after, OUTBOUND_DEFAULTS.disableAfterMs),
    timeoutMs: ms(raw.timeout, OUTBOUND_DEFAULTS.timeoutMs),
    allowPrivate: raw.allow_private === true,
    allow: strings(raw.allow),
    concurrency: typeof raw.concurrency === "number" ? raw.concurrency : OUTBOUND_DEFAULTS.concurrency,
    endpoints,
  };
}

function normaliseEndpoint(name: string, raw: Raw): OutboundEndpointConfig {
  const throttle = map(raw.throttle);
  const headers = Object.fromEntries(Object.entries(map(raw.headers)).map(([header, value]) => [header.toLowerCase(), String(value)]));
  return {
    name,
    url: String(raw.url),
    events: strings(raw.events),
    secrets: typeof raw.secret === "string" ? [raw.secret] : strings(raw.secrets),
    ...(typeof throttle.limit === "number" ? { throttle: { limit: throttle.limit, perMs: ms(throttle.per, OUTBOUND_DEFAULTS.throttlePerMs) } } : {}),
    concurrency: typeof raw.concurrency === "number" ? raw.concurrency : OUTBOUND_DEFAULTS.endpointConcurrency,
    headers,
  };
}
