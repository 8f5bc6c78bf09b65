import type { Pool } from "pg";
import { postgresPlaceholder, whereClause } from "../where-clause.js";
import type { SortableIdSequence } from "../sortable-id-sequence.js";
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
import type { PostgresTables } from "./postgres-tables.js";

const QUALIFIED_DELIVERY_COLUMNS = DELIVERY_COLUMNS.split(", ")
  .map((column) => `d.${column}`)
  .join(", ");

/**
 * Outbound deliveries in PostgreSQL. A claim is one `UPDATE … RETURNING` over rows picked
 * with `FOR UPDATE SKIP LOCKED`, so instances never take the same delivery; "due" and the
 * lease use the database clock. Recording an attempt writes the attempt row and the
 * delivery's state in one statement (data-modifying CTEs), so both commit or neither.
 */
export class PostgresWebhookDeliveries implements WebhookDeliveryStore {
  readonly #enqueue: string;
  readonly #claim: string;
  readonly #recordDelivered: string;
  readonly #recordNotDelivered: string;

  constructor(
    private readonly pool: Pool,
    private readonly t: PostgresTables,
    private readonly ids: SortableIdSequence,
  ) {
    // Rows go in in key order, so two batches sharing some message ids cannot deadlock on the unique index.
    this.#enqueue = `INSERT INTO ${t.webhookDeliveries} (id, outbound, endpoint, message_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
      SELECT n.id, n.outbound, n.endpoint, n.message_id, n.event_id, n.event_type, n.body, 'pending', 0, statement_timestamp(), n.created_at
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
        AS n (id, outbound, endpoint, message_id, event_id, event_type, body, created_at)
      ORDER BY n.outbound, n.endpoint, n.message_id
      ON CONFLICT (outbound, endpoint, message_id) DO NOTHING
      RETURNING id`;
    this.#claim = `WITH due AS (
        SELECT d.id, d.next_attempt_at AS due_at FROM ${t.webhookDeliveries} AS d
        WHERE d.status = 'pending' AND d.next_attempt_at <= statement_timestamp()
          AND NOT EXISTS (SELECT 1 FROM ${t.webhookEndpoints} AS e WHERE e.outbound = d.outbound AND e.endpoint = d.endpoint AND e.disabled)
        ORDER BY d.next_attempt_at, d.id
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE ${t.webhookDeliveries} AS d SET next_attempt_at = statement_timestamp() + $2::double precision * interval '1 millisecond'
      FROM due WHERE d.id = due.id
      RETURNING ${QUALIFIED_DELIVERY_COLUMNS}, due.due_at`;
    // See WebhookDeliveryStore.recordAttempt: a success always lands; any other outcome only from the newest attempt of a pending delivery.
    const insertAttempt = `INSERT INTO ${t.webhookDeliveryAttempts} (id, delivery_id, attempt, started_at, latency_ms, status, response_body, error)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING delivery_id`;
    this.#recordDelivered = `WITH attempt AS (${insertAttempt})
      UPDATE ${t.webhookDeliveries} SET status = 'delivered', attempts = greatest(attempts, $3), next_attempt_at = NULL,
        last_attempt_at = $4, last_status = $6, last_error = $8, delivered_at = statement_timestamp()
      WHERE id = (SELECT delivery_id FROM attempt) AND status <> 'delivered'`;
    this.#recordNotDelivered = `WITH attempt AS (${insertAttempt})
      UPDATE ${t.webhookDeliveries} SET status = $9, attempts = $3, next_attempt_at = $10, last_attempt_at = $4, last_status = $6, last_error = $8
      WHERE id = (SELECT delivery_id FROM attempt) AND status = 'pending' AND attempts < $3`;
  }

  async enqueue(deliveries: readonly NewWebhookDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    const column = <K extends keyof NewWebhookDelivery>(key: K): Array<NewWebhookDelivery[K]> => deliveries.map((delivery) => delivery[key]);
    const result = await this.pool.query(this.#enqueue, [
      deliveries.map(() => this.ids.next().id),
      column("outbound"),
      column("endpoint"),
      column("messageId"),
      column("eventId"),
      column("eventType"),
      column("body"),
      column("createdAt"),
    ]);
    return result.rowCount ?? 0;
  }

  async claimDue(limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    const bound = pageBound(limit, "limit") ?? 0;
    const lease = ttlMilliseconds(leaseMs);
    if (bound === 0) return [];
    const result = await this.pool.query<WebhookDeliveryRow & { due_at: Date }>(this.#claim, [bound, lease]);
    return result.rows
      .map((row) => ({ due: row.due_at.getTime(), id: row.id, delivery: deliveryFromRow(row) }))
      .sort(byDueThenId)
      .map((claimed) => claimed.delivery);
  }

  async recordAttempt(attempt: NewDeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    const params: unknown[] = [
      this.ids.next().id,
      attempt.deliveryId,
      attempt.attempt,
      attempt.startedAt,
      attempt.latencyMs,
      attempt.status ?? null,
      capStoredText(attempt.responseBody),
      capStoredText(attempt.error),
    ];
    try {
      if (outcome.status === "delivered") await this.pool.query(this.#recordDelivered, params);
      else await this.pool.query(this.#recordNotDelivered, [...params, outcome.status, outcome.status === "pending" ? outcome.nextAttemptAt : null]);
    } catch (error) {
      // The attempt row references the delivery: an unknown delivery id fails the foreign key.
      if ((error as { code?: unknown } | null)?.code === "23503") throw stateRecordNotFound("webhook delivery", attempt.deliveryId);
      throw error;
    }
  }

  async get(id: string): Promise<WebhookDelivery | undefined> {
    const result = await this.pool.query<WebhookDeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM ${this.t.webhookDeliveries} WHERE id = $1`, [id]);
    return result.rows[0] === undefined ? undefined : deliveryFromRow(result.rows[0]);
  }

  async list(filter: WebhookDeliveryFilter = {}): Promise<WebhookDelivery[]> {
    const params: unknown[] = [];
    const where = whereClause(
      [
        ["outbound =", filter.outbound],
        ["endpoint =", filter.endpoint],
        ["status =", filter.status],
        ["created_at >=", filter.since],
      ],
      postgresPlaceholder,
      params,
    );
    const limit = pageBound(filter.limit, "limit");
    const page = limit === undefined ? "" : `LIMIT $${params.push(limit)}`;
    const result = await this.pool.query<WebhookDeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM ${this.t.webhookDeliveries} ${where} ORDER BY id DESC ${page}`, params);
    return result.rows.map(deliveryFromRow);
  }

  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const result = await this.pool.query<DeliveryAttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM ${this.t.webhookDeliveryAttempts} WHERE delivery_id = $1 ORDER BY attempt, started_at, id`,
      [deliveryId],
    );
    return result.rows.map(attemptFromRow);
  }

  async resend(id: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.t.webhookDeliveries} SET status = 'pending', next_attempt_at = statement_timestamp(), delivered_at = NULL WHERE id = $1`,
      [id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async recover(outbound: string, endpoint: string, since: Date): Promise<number> {
    const result = await this.pool.query(
      `UPDATE ${this.t.webhookDeliveries} SET status = 'pending', next_attempt_at = statement_timestamp()
       WHERE outbound = $1 AND endpoint = $2 AND status = 'failed' AND created_at >= $3`,
      [outbound, endpoint, since],
    );
    return result.rowCount ?? 0;
  }

  async purgeSettled(before: Date): Promise<number> {
    // Attempts go with their delivery (ON DELETE CASCADE).
    const result = await this.pool.query(`DELETE FROM ${this.t.webhookDeliveries} WHERE status IN ('delivered', 'failed') AND created_at < $1`, [before]);
    return result.rowCount ?? 0;
  }

  async getEndpoint(outbound: string, endpoint: string): Promise<WebhookEndpointState | undefined> {
    const result = await this.pool.query<WebhookEndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.t.webhookEndpoints} WHERE outbound = $1 AND endpoint = $2`, [
      outbound,
      endpoint,
    ]);
    return result.rows[0] === undefined ? undefined : endpointFromRow(result.rows[0]);
  }

  async setEndpoint(state: WebhookEndpointState): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t.webhookEndpoints} (outbound, endpoint, disabled, disabled_at, disabled_reason, failing_since) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (outbound, endpoint) DO UPDATE SET disabled = EXCLUDED.disabled, disabled_at = EXCLUDED.disabled_at,
         disabled_reason = EXCLUDED.disabled_reason, failing_since = EXCLUDED.failing_since`,
      [state.outbound, state.endpoint, state.disabled, state.disabledAt ?? null, state.disabledReason ?? null, state.failingSince ?? null],
    );
  }
}
