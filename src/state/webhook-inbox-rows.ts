import { fromJsonText } from "./stored-json.js";
import type { InboundEvent } from "./webhook-types.js";

/** An inbox row as either database returns it (SQLite: epoch ms; PostgreSQL: Date; headers as JSON text). */
export interface InboundEventRow {
  id: string;
  endpoint: string;
  integration: string;
  event_id: string;
  event_type: string | null;
  received_at: Date | number;
  headers: string;
  body: string;
  deliveries: number;
}

export const INBOX_COLUMNS = "id, endpoint, integration, event_id, event_type, received_at, headers, body, deliveries";

/** Idempotency scope of an inbound endpoint's event ids. */
export function inboxDedupScope(endpoint: string): string {
  return `webhook:${endpoint}`;
}

export function inboundEventFromRow(row: InboundEventRow): InboundEvent {
  const event: InboundEvent = {
    id: row.id,
    endpoint: row.endpoint,
    integration: row.integration,
    eventId: row.event_id,
    receivedAt: row.received_at instanceof Date ? row.received_at : new Date(row.received_at),
    headers: fromJsonText(row.headers) as Record<string, string>,
    body: row.body,
    deliveries: Number(row.deliveries),
  };
  if (row.event_type !== null) event.eventType = row.event_type;
  return event;
}

/** Claimed rows come back in no particular order from UPDATE … RETURNING: arrival order again. */
export function byInboxId(a: InboundEvent, b: InboundEvent): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
