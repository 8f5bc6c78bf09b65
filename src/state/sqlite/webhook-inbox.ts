import type { SortableIdSequence } from "../sortable-id-sequence.js";
import { sqlitePlaceholder, whereClause } from "../where-clause.js";
import { ttlMilliseconds } from "../state-errors.js";
import { toJsonText } from "../stored-json.js";
import { byInboxId, INBOX_COLUMNS, inboundEventFromRow, inboxDedupScope, type InboundEventRow } from "../webhook-inbox-rows.js";
import type { InboundAcceptance, InboundEvent, NewInboundEvent, WebhookInboxStore } from "../webhook-types.js";
import type { SqliteConnection, SqliteStatement } from "./sqlite-driver.js";

const CLAIM_KEY = `INSERT INTO junction_idempotency_keys AS k (scope, key, created_at, expires_at, result) VALUES (?, ?, ?, ?, NULL)
  ON CONFLICT (scope, key) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at, result = NULL
  WHERE k.expires_at <= excluded.created_at`;
const INSERT_EVENT = `INSERT INTO junction_webhook_inbox (id, endpoint, integration, event_id, event_type, received_at, headers, body, visible_at, deliveries)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`;
const CLAIM_EVENTS = `UPDATE junction_webhook_inbox SET visible_at = ?, deliveries = deliveries + 1
  WHERE id IN (SELECT id FROM junction_webhook_inbox WHERE integration = ? AND visible_at <= ? ORDER BY id LIMIT ?)
  RETURNING ${INBOX_COLUMNS}`;

/** The inbox in the SQLite state file: every call is one synchronous transaction of this process, serialised with other processes by SQLite's write lock. */
export class SqliteWebhookInbox implements WebhookInboxStore {
  readonly #statements = new Map<string, SqliteStatement>();

  constructor(
    private readonly db: SqliteConnection,
    private readonly ids: SortableIdSequence,
  ) {}

  async accept(events: readonly NewInboundEvent[]): Promise<InboundAcceptance[]> {
    const prepared = events.map((event) => ({ event, ttl: ttlMilliseconds(event.dedupTtlMs), headers: toJsonText(event.headers, "the webhook headers") }));
    return this.db.transaction(() => {
      const now = Date.now();
      const claimKey = this.#statement(CLAIM_KEY);
      const insert = this.#statement(INSERT_EVENT);
      return prepared.map(({ event, ttl, headers }): InboundAcceptance => {
        if (claimKey.run(inboxDedupScope(event.endpoint), event.eventId, now, now + ttl).changes === 0) return "duplicate";
        const received = event.receivedAt.getTime();
        for (const integration of event.integrations) {
          insert.run(this.ids.next().id, event.endpoint, integration, event.eventId, event.eventType ?? null, received, headers, event.body, received);
        }
        return "accepted";
      });
    }, "immediate");
  }

  async claim(integration: string, limit: number, leaseMs: number): Promise<InboundEvent[]> {
    const now = Date.now();
    const rows = this.#statement(CLAIM_EVENTS).all(now + ttlMilliseconds(leaseMs), integration, now, Math.max(1, Math.floor(limit))) as unknown as InboundEventRow[];
    return rows.map(inboundEventFromRow).sort(byInboxId);
  }

  async complete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.#statement("DELETE FROM junction_webhook_inbox WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(ids));
  }

  async release(ids: readonly string[], delayMs: number): Promise<void> {
    if (ids.length === 0) return;
    const visibleAt = Date.now() + ttlMilliseconds(delayMs);
    this.#statement("UPDATE junction_webhook_inbox SET visible_at = ? WHERE id IN (SELECT value FROM json_each(?))").run(visibleAt, JSON.stringify(ids));
  }

  async count(filter: { integration?: string; endpoint?: string } = {}): Promise<number> {
    const params: unknown[] = [];
    const where = whereClause(
      [
        ["integration =", filter.integration],
        ["endpoint =", filter.endpoint],
      ],
      sqlitePlaceholder,
      params,
    );
    const row = this.#statement(`SELECT count(*) AS count FROM junction_webhook_inbox ${where}`).get(...params) as { count: number } | undefined;
    return Number(row?.count ?? 0);
  }

  #statement(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
