import type { SortableIdSequence } from "../sortable-id-sequence.js";
import { sqlitePlaceholder, whereClause } from "../where-clause.js";
import { pageBound, stateRecordNotFound, ttlMilliseconds } from "../state-errors.js";
import {
  ATTEMPT_COLUMNS,
  attemptFromRow,
  byDueThenId,
  capStoredText,
  DELIVERY_COLUMNS,
  deliveryFromRow,
  ENDPOINT_COLUMNS,
  endpointFromRow,
  type DeliveryAttemptRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "../webhook-delivery-rows.js";
import type {
  DeliveryAttempt,
  DeliveryOutcome,
  NewDeliveryAttempt,
  NewWebhookDelivery,
  WebhookDelivery,
  WebhookDeliveryFilter,
  WebhookDeliveryStore,
  WebhookEndpointState,
} from "../webhook-types.js";
import type { SqliteConnection, SqliteStatement } from "./sqlite-driver.js";

const INSERT_DELIVERY = `INSERT INTO junction_webhook_deliveries (id, outbound, endpoint, message_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
  ON CONFLICT (outbound, endpoint, message_id) DO NOTHING`;
const DUE_DELIVERIES = `SELECT ${DELIVERY_COLUMNS} FROM junction_webhook_deliveries AS d
  WHERE d.status = 'pending' AND d.next_attempt_at <= ?
    AND NOT EXISTS (SELECT 1 FROM junction_webhook_endpoints AS e WHERE e.outbound = d.outbound AND e.endpoint = d.endpoint AND e.disabled = 1)
  ORDER BY d.next_attempt_at, d.id LIMIT ?`;
const LEASE_DELIVERIES = "UPDATE junction_webhook_deliveries SET next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?))";
const INSERT_ATTEMPT = `INSERT INTO junction_webhook_delivery_attempts (id, delivery_id, attempt, started_at, latency_ms, status, response_body, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
// See WebhookDeliveryStore.recordAttempt: a success always lands; any other outcome only from the newest attempt of a pending delivery.
const RECORD_DELIVERED = `UPDATE junction_webhook_deliveries
  SET status = 'delivered', attempts = max(attempts, ?), next_attempt_at = NULL, last_attempt_at = ?, last_status = ?, last_error = ?, delivered_at = ?
  WHERE id = ? AND status <> 'delivered'`;
const RECORD_NOT_DELIVERED = `UPDATE junction_webhook_deliveries
  SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?, last_error = ?
  WHERE id = ? AND status = 'pending' AND attempts < ?`;
const UPSERT_ENDPOINT = `INSERT INTO junction_webhook_endpoints (outbound, endpoint, disabled, disabled_at, disabled_reason, failing_since) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (outbound, endpoint) DO UPDATE SET disabled = excluded.disabled, disabled_at = excluded.disabled_at,
    disabled_reason = excluded.disabled_reason, failing_since = excluded.failing_since`;

/**
 * Outbound deliveries in the SQLite state file. The driver is synchronous, so each method
 * is atomic within this process; claims and attempt records run in `BEGIN IMMEDIATE`
 * transactions, which other processes sharing the file wait for (SQLite's write lock).
 */
export class SqliteWebhookDeliveries implements WebhookDeliveryStore {
  readonly #statements = new Map<string, SqliteStatement>();

  constructor(
    private readonly db: SqliteConnection,
    private readonly ids: SortableIdSequence,
  ) {}

  async enqueue(deliveries: readonly NewWebhookDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    return this.db.transaction(() => {
      const now = Date.now();
      let added = 0;
      for (const delivery of deliveries) {
        const { id } = this.ids.next();
        added += this.#statement(INSERT_DELIVERY).run(
          id,
          delivery.outbound,
          delivery.endpoint,
          delivery.messageId,
          delivery.eventId,
          delivery.eventType,
          delivery.body,
          now,
          delivery.createdAt.getTime(),
        ).changes;
      }
      return added;
    }, "immediate");
  }

  async claimDue(limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    const bound = pageBound(limit, "limit") ?? 0;
    const lease = ttlMilliseconds(leaseMs);
    if (bound === 0) return [];
    return this.db.transaction(() => {
      const now = Date.now();
      const rows = this.#statement(DUE_DELIVERIES).all(now, bound) as unknown as WebhookDeliveryRow[];
      if (rows.length === 0) return [];
      const leasedUntil = now + lease;
      this.#statement(LEASE_DELIVERIES).run(leasedUntil, JSON.stringify(rows.map((row) => row.id)));
      return rows
        .map((row) => ({ due: Number(row.next_attempt_at), id: row.id, delivery: deliveryFromRow({ ...row, next_attempt_at: leasedUntil }) }))
        .sort(byDueThenId)
        .map((claimed) => claimed.delivery);
    }, "immediate");
  }

  async recordAttempt(attempt: NewDeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    const responseBody = capStoredText(attempt.responseBody);
    const error = capStoredText(attempt.error);
    const startedAt = attempt.startedAt.getTime();
    const status = attempt.status ?? null;
    this.db.transaction(() => {
      if (this.#statement("SELECT 1 AS found FROM junction_webhook_deliveries WHERE id = ?").get(attempt.deliveryId) === undefined) {
        throw stateRecordNotFound("webhook delivery", attempt.deliveryId);
      }
      const { id } = this.ids.next();
      this.#statement(INSERT_ATTEMPT).run(id, attempt.deliveryId, attempt.attempt, startedAt, attempt.latencyMs, status, responseBody, error);
      if (outcome.status === "delivered") {
        this.#statement(RECORD_DELIVERED).run(attempt.attempt, startedAt, status, error, Date.now(), attempt.deliveryId);
      } else {
        const nextAttemptAt = outcome.status === "pending" ? outcome.nextAttemptAt.getTime() : null;
        this.#statement(RECORD_NOT_DELIVERED).run(outcome.status, attempt.attempt, nextAttemptAt, startedAt, status, error, attempt.deliveryId, attempt.attempt);
      }
    }, "immediate");
  }

  async get(id: string): Promise<WebhookDelivery | undefined> {
    const row = this.#statement(`SELECT ${DELIVERY_COLUMNS} FROM junction_webhook_deliveries WHERE id = ?`).get(id) as WebhookDeliveryRow | undefined;
    return row === undefined ? undefined : deliveryFromRow(row);
  }

  async list(filter: WebhookDeliveryFilter = {}): Promise<WebhookDelivery[]> {
    const params: unknown[] = [];
    const where = whereClause(
      [
        ["outbound =", filter.outbound],
        ["endpoint =", filter.endpoint],
        ["status =", filter.status],
        ["created_at >=", filter.since?.getTime()],
      ],
      sqlitePlaceholder,
      params,
    );
    const limit = pageBound(filter.limit, "limit");
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM junction_webhook_deliveries ${where} ORDER BY id DESC ${limit === undefined ? "" : "LIMIT ?"}`;
    if (limit !== undefined) params.push(limit);
    return (this.#statement(sql).all(...params) as unknown as WebhookDeliveryRow[]).map(deliveryFromRow);
  }

  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const rows = this.#statement(`SELECT ${ATTEMPT_COLUMNS} FROM junction_webhook_delivery_attempts WHERE delivery_id = ? ORDER BY attempt, started_at, id`).all(
      deliveryId,
    ) as unknown as DeliveryAttemptRow[];
    return rows.map(attemptFromRow);
  }

  async resend(id: string): Promise<boolean> {
    const changed = this.#statement(
      "UPDATE junction_webhook_deliveries SET status = 'pending', next_attempt_at = ?, delivered_at = NULL WHERE id = ?",
    ).run(Date.now(), id).changes;
    return changed > 0;
  }

  async recover(outbound: string, endpoint: string, since: Date): Promise<number> {
    return this.#statement(
      `UPDATE junction_webhook_deliveries SET status = 'pending', next_attempt_at = ?
       WHERE outbound = ? AND endpoint = ? AND status = 'failed' AND created_at >= ?`,
    ).run(Date.now(), outbound, endpoint, since.getTime()).changes;
  }

  async purgeSettled(before: Date): Promise<number> {
    // Attempts go with their delivery (ON DELETE CASCADE).
    return this.#statement("DELETE FROM junction_webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < ?").run(before.getTime()).changes;
  }

  async getEndpoint(outbound: string, endpoint: string): Promise<WebhookEndpointState | undefined> {
    const row = this.#statement(`SELECT ${ENDPOINT_COLUMNS} FROM junction_webhook_endpoints WHERE outbound = ? AND endpoint = ?`).get(outbound, endpoint) as
      | WebhookEndpointRow
      | undefined;
    return row === undefined ? undefined : endpointFromRow(row);
  }

  async setEndpoint(state: WebhookEndpointState): Promise<void> {
    this.#statement(UPSERT_ENDPOINT).run(
      state.outbound,
      state.endpoint,
      state.disabled ? 1 : 0,
      state.disabledAt?.getTime() ?? null,
      state.disabledReason ?? null,
      state.failingSince?.getTime() ?? null,
    );
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
