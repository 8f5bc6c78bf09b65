import type { DeliveryAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpointState } from "./webhook-types.js";

/**
 * Row shapes of the outbound webhook tables as either database returns them
 * (SQLite: times as epoch ms, booleans as 0/1; PostgreSQL: Date and boolean).
 */
type DbTime = Date | number;

function toDate(value: DbTime): Date {
  return value instanceof Date ? value : new Date(value);
}

/** Longest response body or error text kept per attempt, in UTF-8 bytes; callers truncate first, this is the backstop. */
export const MAX_STORED_TEXT_BYTES = 4096;
const ELLIPSIS = "…";

/** `text` cut to at most `MAX_STORED_TEXT_BYTES` UTF-8 bytes on a character boundary, with "…" when cut. */
export function capStoredText(text: string | undefined): string | null {
  if (text === undefined) return null;
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= MAX_STORED_TEXT_BYTES) return text;
  let end = MAX_STORED_TEXT_BYTES - Buffer.byteLength(ELLIPSIS);
  // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8") + ELLIPSIS;
}

export const DELIVERY_COLUMNS =
  "id, outbound, endpoint, message_id, event_id, event_type, body, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, created_at";

export interface WebhookDeliveryRow {
  id: string;
  outbound: string;
  endpoint: string;
  message_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: DbTime | null;
  last_attempt_at: DbTime | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: DbTime | null;
  created_at: DbTime;
}

export function deliveryFromRow(row: WebhookDeliveryRow): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: row.id,
    outbound: row.outbound,
    endpoint: row.endpoint,
    messageId: row.message_id,
    eventId: row.event_id,
    eventType: row.event_type,
    body: row.body,
    createdAt: toDate(row.created_at),
    status: row.status as WebhookDeliveryStatus,
    attempts: Number(row.attempts),
  };
  if (row.next_attempt_at !== null) delivery.nextAttemptAt = toDate(row.next_attempt_at);
  if (row.last_attempt_at !== null) delivery.lastAttemptAt = toDate(row.last_attempt_at);
  if (row.last_status !== null) delivery.lastStatus = Number(row.last_status);
  if (row.last_error !== null) delivery.lastError = row.last_error;
  if (row.delivered_at !== null) delivery.deliveredAt = toDate(row.delivered_at);
  return delivery;
}

export const ATTEMPT_COLUMNS = "id, delivery_id, attempt, started_at, latency_ms, status, response_body, error";

export interface DeliveryAttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  started_at: DbTime;
  latency_ms: number;
  status: number | null;
  response_body: string | null;
  error: string | null;
}

export function attemptFromRow(row: DeliveryAttemptRow): DeliveryAttempt {
  const attempt: DeliveryAttempt = {
    id: row.id,
    deliveryId: row.delivery_id,
    attempt: Number(row.attempt),
    startedAt: toDate(row.started_at),
    latencyMs: Number(row.latency_ms),
  };
  if (row.status !== null) attempt.status = Number(row.status);
  if (row.response_body !== null) attempt.responseBody = row.response_body;
  if (row.error !== null) attempt.error = row.error;
  return attempt;
}

export const ENDPOINT_COLUMNS = "outbound, endpoint, disabled, disabled_at, disabled_reason, failing_since";

export interface WebhookEndpointRow {
  outbound: string;
  endpoint: string;
  disabled: boolean | number;
  disabled_at: DbTime | null;
  disabled_reason: string | null;
  failing_since: DbTime | null;
}

export function endpointFromRow(row: WebhookEndpointRow): WebhookEndpointState {
  const state: WebhookEndpointState = { outbound: row.outbound, endpoint: row.endpoint, disabled: Boolean(row.disabled) };
  if (row.disabled_at !== null) state.disabledAt = toDate(row.disabled_at);
  if (row.disabled_reason !== null) state.disabledReason = row.disabled_reason;
  if (row.failing_since !== null) state.failingSince = toDate(row.failing_since);
  return state;
}

/** Claimed rows come back from UPDATE … RETURNING in no particular order: oldest due first again. */
export function byDueThenId(a: { due: number; id: string }, b: { due: number; id: string }): number {
  if (a.due !== b.due) return a.due - b.due;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
