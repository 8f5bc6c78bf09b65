import type { Pool } from "pg";
import { postgresPlaceholder, whereClause } from "../where-clause.js";
import type { SortableIdSequence } from "../sortable-id-sequence.js";
import { ttlMilliseconds } from "../state-errors.js";
import { toJsonText } from "../stored-json.js";
import { byInboxId, inboundEventFromRow, inboxDedupScope, type InboundEventRow } from "../webhook-inbox-rows.js";
import type { InboundAcceptance, InboundEvent, NewInboundEvent, WebhookInboxStore } from "../webhook-types.js";
import type { PostgresTables } from "./postgres-tables.js";

const MS = "$ms::double precision * interval '1 millisecond'";

/**
 * The inbox in PostgreSQL. Accepting is one statement (the idempotency claim and the rows
 * in data-modifying CTEs), so it is atomic and one round trip; claiming skips rows another
 * instance holds (`FOR UPDATE SKIP LOCKED`); visibility uses the database clock.
 */
export class PostgresWebhookInbox implements WebhookInboxStore {
  readonly #accept: string;
  readonly #claim: string;

  constructor(
    private readonly pool: Pool,
    private readonly t: PostgresTables,
    private readonly ids: SortableIdSequence,
  ) {
    this.#accept = `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::double precision[]) AS i (scope, key, ttl)
      ), claimed AS (
        INSERT INTO ${t.idempotencyKeys} AS k (scope, key, created_at, expires_at, result)
        SELECT scope, key, statement_timestamp(), statement_timestamp() + ttl * interval '1 millisecond', NULL FROM input
        ON CONFLICT (scope, key) DO UPDATE SET created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, result = NULL
        WHERE k.expires_at <= EXCLUDED.created_at
        RETURNING scope, key
      ), stored AS (
        INSERT INTO ${t.webhookInbox} (id, endpoint, integration, event_id, event_type, received_at, headers, body, visible_at, deliveries)
        SELECT r.id, r.endpoint, r.integration, r.event_id, r.event_type, r.received_at, r.headers::json, r.body, r.received_at, 0
        FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::text[], $12::text[])
          AS r (id, scope, endpoint, integration, event_id, event_type, received_at, headers, body)
        JOIN claimed c ON c.scope = r.scope AND c.key = r.event_id
      )
      SELECT scope, key FROM claimed`;
    this.#claim = `UPDATE ${t.webhookInbox} SET visible_at = statement_timestamp() + ${MS.replace("$ms", "$3")}, deliveries = deliveries + 1
      WHERE id IN (
        SELECT id FROM ${t.webhookInbox} WHERE integration = $1 AND visible_at <= statement_timestamp()
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      RETURNING id, endpoint, integration, event_id, event_type, received_at, headers::text AS headers, body, deliveries`;
  }

  async accept(events: readonly NewInboundEvent[]): Promise<InboundAcceptance[]> {
    // One statement for the whole group. A key may be claimed once per statement, so a repeated id within the group is a duplicate here.
    const first = new Map<string, number>();
    const scopes: string[] = [];
    const keys: string[] = [];
    const ttls: number[] = [];
    const rows: unknown[][] = [[], [], [], [], [], [], [], [], []];
    events.forEach((event, index) => {
      const scope = inboxDedupScope(event.endpoint);
      const identity = `${scope}\u0000${event.eventId}`;
      if (first.has(identity)) return;
      first.set(identity, index);
      scopes.push(scope);
      keys.push(event.eventId);
      ttls.push(ttlMilliseconds(event.dedupTtlMs));
      const headers = toJsonText(event.headers, "the webhook headers");
      for (const integration of event.integrations) {
        const values = [this.ids.next().id, scope, event.endpoint, integration, event.eventId, event.eventType ?? null, event.receivedAt, headers, event.body];
        values.forEach((value, column) => rows[column]?.push(value));
      }
    });
    const result = await this.pool.query<{ scope: string; key: string }>(this.#accept, [scopes, keys, ttls, ...rows]);
    const claimed = new Set(result.rows.map((row) => first.get(`${row.scope}\u0000${row.key}`)));
    return events.map((_, index) => (claimed.has(index) ? "accepted" : "duplicate"));
  }

  async claim(integration: string, limit: number, leaseMs: number): Promise<InboundEvent[]> {
    const result = await this.pool.query<InboundEventRow>(this.#claim, [integration, Math.max(1, Math.floor(limit)), ttlMilliseconds(leaseMs)]);
    return result.rows.map(inboundEventFromRow).sort(byInboxId);
  }

  async complete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`DELETE FROM ${this.t.webhookInbox} WHERE id = ANY($1::text[])`, [ids]);
  }

  async release(ids: readonly string[], delayMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`UPDATE ${this.t.webhookInbox} SET visible_at = statement_timestamp() + ${MS.replace("$ms", "$2")} WHERE id = ANY($1::text[])`, [
      ids,
      ttlMilliseconds(delayMs),
    ]);
  }

  async count(filter: { integration?: string; endpoint?: string } = {}): Promise<number> {
    const params: unknown[] = [];
    const where = whereClause(
      [
        ["integration =", filter.integration],
        ["endpoint =", filter.endpoint],
      ],
      postgresPlaceholder,
      params,
    );
    const result = await this.pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${this.t.webhookInbox} ${where}`, params);
    return result.rows[0]?.count ?? 0;
  }
}
