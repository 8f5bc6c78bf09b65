import pg from "pg";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import { decisionSearchText, decisionSearchWords } from "../decision-search.js";
import { pendingMigrations } from "../migration.js";
import {
  checkpointFromRow,
  deadLetterFromRow,
  decisionFromRow,
  idempotencyFromRow,
  leaseFromRow,
  runFromRow,
  type CheckpointRow,
  type DeadLetterRow,
  type DecisionRow,
  type IdempotencyRow,
  type LeaseRow,
  type RunRow,
} from "../rows.js";
import { SortableIdSequence } from "../sortable-id-sequence.js";
import { pageBound, stateRecordNotFound, ttlMilliseconds } from "../state-errors.js";
import { toJsonText } from "../stored-json.js";
import type {
  Checkpoint,
  DeadLetter,
  DeadLetterFilter,
  Decision,
  DecisionQuery,
  IdempotencyRecord,
  Lease,
  NewDeadLetter,
  NewDecision,
  NewRun,
  RunCounts,
  RunFilter,
  RunRecord,
  RunResult,
  SharedDatabaseCheckpoints,
  SqlStatement,
  StateStore,
} from "../types.js";
import { POSTGRES_DATABASE_IDENTITY_SQL } from "./database-identity.js";
import { POSTGRES_MIGRATIONS, type PostgresMigration } from "./migrations/index.js";
import { postgresTables, quoteIdentifier, type PostgresTables } from "./postgres-tables.js";
import { PostgresWebhookInbox } from "./webhook-inbox.js";
import { PostgresWebhookDeliveries } from "./webhook-deliveries.js";

export interface PostgresStateStoreOptions {
  /** A `postgres://` URL as `pg` understands it (no `schema` parameter). */
  connectionString: string;
  /** Schema holding every table; created when missing. Without it, tables go to the connection's search_path. */
  schema?: string;
  /** Shown in logs and `junction status`; must not contain credentials. */
  location?: string;
  /** Most connections in the pool (default 10). */
  maxConnections?: number;
  /** Migrations to apply; defaults to all of Junction's. */
  migrations?: readonly PostgresMigration[];
}

const DEAD_LETTER_COLUMNS =
  "id, integration, stage, message::text AS message, error::text AS error, attempts, status, created_at, replayed_at, replay_attempts, last_replay_error";
const RUN_COLUMNS =
  "id, integration, trigger, status, started_at, finished_at, read_count, written_count, filtered_count, dead_lettered_count, retried_count, error";
const DECISION_COLUMNS = "id, title, text, tags, subject, created_at";

/** Collects query parameters and hands out their `$n` placeholders. */
class QueryParameters {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The shared state store for several instances. Every claim is one
 * `INSERT … ON CONFLICT … DO UPDATE … WHERE <expired> RETURNING` statement, so it is
 * atomic across processes; expiry uses the database clock (`statement_timestamp()`), so
 * instances with skewed clocks still agree on who holds what.
 */
export class PostgresStateStore implements StateStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  readonly sharedCheckpoints: SharedDatabaseCheckpoints;
  readonly webhookInbox: PostgresWebhookInbox;
  readonly webhookDeliveries: PostgresWebhookDeliveries;
  private readonly pool: Pool;
  private readonly schema: string | undefined;
  private readonly t: PostgresTables;
  private readonly migrations: readonly PostgresMigration[];
  private readonly ids = new SortableIdSequence();
  private closed = false;
  // An idle pooled connection that fails is discarded by the pool; without a listener the
  // 'error' event would crash the process. The next query simply uses a new connection.
  private readonly onIdleClientError = (): void => undefined;

  constructor(options: PostgresStateStoreOptions) {
    this.schema = options.schema;
    this.t = postgresTables(options.schema);
    this.location = options.location ?? "postgres";
    this.migrations = options.migrations ?? POSTGRES_MIGRATIONS;
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10, application_name: "junction" });
    this.pool.on("error", this.onIdleClientError);
    this.webhookInbox = new PostgresWebhookInbox(this.pool, this.t, this.ids);
    this.webhookDeliveries = new PostgresWebhookDeliveries(this.pool, this.t, this.ids);
    this.sharedCheckpoints = {
      databaseIdentity: () => this.databaseIdentity(),
      checkpointStatement: (scope, value) => this.checkpointUpsert(scope, value),
    };
  }

  private async databaseIdentity(): Promise<string | undefined> {
    try {
      const result = await this.pool.query<{ identity: string }>(POSTGRES_DATABASE_IDENTITY_SQL);
      return result.rows[0]?.identity;
    } catch {
      return undefined;
    }
  }

  private checkpointUpsert(scope: string, value: unknown): SqlStatement {
    return {
      sql: `INSERT INTO ${this.t.checkpoints} (scope, value, updated_at) VALUES ($1, $2::json, $3)
       ON CONFLICT (scope) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
      params: [scope, toJsonText(value, `the checkpoint of "${scope}"`), new Date()],
    };
  }

  async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      // Serialises concurrent starts; the lock is released with the transaction.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`junction.migrate:${this.schema ?? ""}`]);
      if (this.schema !== undefined) {
        const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.schema]);
        if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdentifier(this.schema)}`);
      }
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const applied = await client.query<{ version: number }>(`SELECT version FROM ${this.t.migrations}`);
      for (const migration of pendingMigrations(
        this.migrations,
        applied.rows.map((row) => row.version),
      )) {
        await client.query(migration.sql(this.t));
        await client.query(`INSERT INTO ${this.t.migrations} (version, name, applied_at) VALUES ($1, $2, now())`, [migration.version, migration.name]);
      }
    });
  }

  async appliedMigrations(): Promise<number[]> {
    const table = await this.rows<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [this.t.migrations]);
    if (table[0]?.exists !== true) return [];
    const rows = await this.rows<{ version: number }>(`SELECT version FROM ${this.t.migrations} ORDER BY version`);
    return rows.map((row) => row.version);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    this.pool.off("error", this.onIdleClientError);
  }

  // Checkpoints

  async getCheckpoint(scope: string): Promise<Checkpoint | undefined> {
    const rows = await this.rows<CheckpointRow>(`SELECT scope, value::text AS value, updated_at FROM ${this.t.checkpoints} WHERE scope = $1`, [scope]);
    return rows[0] === undefined ? undefined : checkpointFromRow(rows[0]);
  }

  async setCheckpoint(scope: string, value: unknown): Promise<void> {
    const statement = this.checkpointUpsert(scope, value);
    await this.pool.query(statement.sql, statement.params);
  }

  async deleteCheckpoint(scope: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM ${this.t.checkpoints} WHERE scope = $1`, [scope]);
    return (result.rowCount ?? 0) > 0;
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    const rows = await this.rows<CheckpointRow>(`SELECT scope, value::text AS value, updated_at FROM ${this.t.checkpoints} ORDER BY scope`);
    return rows.map(checkpointFromRow);
  }

  // Dead letters

  async addDeadLetter(input: NewDeadLetter): Promise<DeadLetter> {
    const { id, time } = this.ids.next();
    const rows = await this.rows<DeadLetterRow>(
      `INSERT INTO ${this.t.deadLetters} (id, integration, stage, message, error, attempts, status, created_at, replay_attempts)
       VALUES ($1, $2, $3, $4::json, $5::json, $6, 'pending', $7, 0)
       RETURNING ${DEAD_LETTER_COLUMNS}`,
      [
        id,
        input.integration,
        input.stage,
        toJsonText(input.message, "the dead-lettered message"),
        toJsonText(input.error, "the dead-letter error"),
        input.attempts,
        new Date(time),
      ],
    );
    return deadLetterFromRow(expectRow(rows, "dead letter", id));
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const rows = await this.rows<DeadLetterRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.t.deadLetters} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : deadLetterFromRow(rows[0]);
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const params = new QueryParameters();
    const where = deadLetterWhere(filter, params);
    const page = pageClause(filter, params);
    const rows = await this.rows<DeadLetterRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.t.deadLetters} ${where} ORDER BY id DESC ${page}`, params.values);
    return rows.map(deadLetterFromRow);
  }

  async countDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const params = new QueryParameters();
    const where = deadLetterWhere(filter, params);
    const page = pageClause(filter, params);
    const rows = await this.rows<{ count: string }>(
      `SELECT count(*) AS count FROM (SELECT id FROM ${this.t.deadLetters} ${where} ORDER BY id DESC ${page}) AS matching`,
      params.values,
    );
    return Number(rows[0]?.count ?? 0);
  }

  async markDeadLetterReplayed(id: string): Promise<void> {
    const result = await this.pool.query(`UPDATE ${this.t.deadLetters} SET status = 'replayed', replayed_at = $2 WHERE id = $1`, [id, new Date()]);
    if (result.rowCount === 0) throw stateRecordNotFound("dead letter", id);
  }

  async recordDeadLetterReplayFailure(id: string, error: string): Promise<void> {
    const result = await this.pool.query(
      `UPDATE ${this.t.deadLetters} SET replay_attempts = replay_attempts + 1, last_replay_error = $2 WHERE id = $1`,
      [id, error],
    );
    if (result.rowCount === 0) throw stateRecordNotFound("dead letter", id);
  }

  async purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const params = new QueryParameters();
    const where = deadLetterWhere(filter, params);
    const page = pageClause(filter, params);
    const sql =
      page === ""
        ? `DELETE FROM ${this.t.deadLetters} ${where}`
        : `DELETE FROM ${this.t.deadLetters} WHERE id IN (SELECT id FROM ${this.t.deadLetters} ${where} ORDER BY id DESC ${page})`;
    const result = await this.pool.query(sql, params.values);
    return result.rowCount ?? 0;
  }

  // Idempotency keys

  async claimIdempotencyKey(scope: string, key: string, ttlMs: number, result?: unknown): Promise<boolean> {
    const rows = await this.rows(
      `INSERT INTO ${this.t.idempotencyKeys} AS k (scope, key, created_at, expires_at, result)
       VALUES ($1, $2, statement_timestamp(), statement_timestamp() + $3::double precision * interval '1 millisecond', $4::json)
       ON CONFLICT (scope, key) DO UPDATE SET created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, result = EXCLUDED.result
       WHERE k.expires_at <= EXCLUDED.created_at
       RETURNING key`,
      [scope, key, ttlMilliseconds(ttlMs), result === undefined ? null : toJsonText(result, "the idempotency result")],
    );
    return rows.length > 0;
  }

  async getIdempotencyKey(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const rows = await this.rows<IdempotencyRow>(
      `SELECT scope, key, created_at, expires_at, result::text AS result FROM ${this.t.idempotencyKeys}
       WHERE scope = $1 AND key = $2 AND expires_at > statement_timestamp()`,
      [scope, key],
    );
    return rows[0] === undefined ? undefined : idempotencyFromRow(rows[0]);
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.t.idempotencyKeys} WHERE scope = $1 AND key = $2`, [scope, key]);
  }

  async pruneIdempotencyKeys(now?: Date): Promise<number> {
    const result = await this.pool.query(`DELETE FROM ${this.t.idempotencyKeys} WHERE expires_at <= coalesce($1::timestamptz, statement_timestamp())`, [
      now ?? null,
    ]);
    return result.rowCount ?? 0;
  }

  // Runs

  async startRun(input: NewRun): Promise<RunRecord> {
    const { id, time } = this.ids.next();
    const rows = await this.rows<RunRow>(
      `INSERT INTO ${this.t.runs} (id, integration, trigger, status, started_at) VALUES ($1, $2, $3, 'running', $4) RETURNING ${RUN_COLUMNS}`,
      [id, input.integration, input.trigger, new Date(time)],
    );
    return runFromRow(expectRow(rows, "run", id));
  }

  async updateRun(id: string, counts: Partial<RunCounts>): Promise<void> {
    const result = await this.pool.query(
      `UPDATE ${this.t.runs} SET read_count = read_count + $2, written_count = written_count + $3, filtered_count = filtered_count + $4,
         dead_lettered_count = dead_lettered_count + $5, retried_count = retried_count + $6
       WHERE id = $1 AND status = 'running'`,
      [id, counts.read ?? 0, counts.written ?? 0, counts.filtered ?? 0, counts.deadLettered ?? 0, counts.retried ?? 0],
    );
    if (result.rowCount === 0 && (await this.getRun(id)) === undefined) throw stateRecordNotFound("run", id);
  }

  async finishRun(id: string, result: RunResult): Promise<void> {
    const { counts } = result;
    const updated = await this.pool.query(
      `UPDATE ${this.t.runs} SET status = $2, finished_at = $3, read_count = $4, written_count = $5, filtered_count = $6,
         dead_lettered_count = $7, retried_count = $8, error = $9
       WHERE id = $1`,
      [id, result.status, new Date(), counts.read, counts.written, counts.filtered, counts.deadLettered, counts.retried, result.error ?? null],
    );
    if (updated.rowCount === 0) throw stateRecordNotFound("run", id);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await this.rows<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : runFromRow(rows[0]);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const params = new QueryParameters();
    const conditions: string[] = [];
    if (filter.integration !== undefined) conditions.push(`integration = ${params.add(filter.integration)}`);
    if (filter.status !== undefined) conditions.push(`status = ${params.add(filter.status)}`);
    const page = pageClause({ limit: filter.limit }, params);
    const rows = await this.rows<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${this.t.runs} ${whereSql(conditions)} ORDER BY id DESC ${page}`, params.values);
    return rows.map(runFromRow);
  }

  // Leases

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.rows(
      `INSERT INTO ${this.t.leases} AS l (name, holder, expires_at)
       VALUES ($1, $2, statement_timestamp() + $3::double precision * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE l.holder = EXCLUDED.holder OR l.expires_at <= statement_timestamp()
       RETURNING name`,
      [name, holder, ttlMilliseconds(ttlMs)],
    );
    return rows.length > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.t.leases} WHERE name = $1 AND holder = $2`, [name, holder]);
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const rows = await this.rows<LeaseRow>(`SELECT name, holder, expires_at FROM ${this.t.leases} WHERE name = $1 AND expires_at > statement_timestamp()`, [
      name,
    ]);
    return rows[0] === undefined ? undefined : leaseFromRow(rows[0]);
  }

  // Decisions

  async recordDecision(input: NewDecision): Promise<Decision> {
    const { id, time } = this.ids.next();
    const rows = await this.rows<DecisionRow>(
      `INSERT INTO ${this.t.decisions} (id, title, text, tags, subject, search_text, created_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7) RETURNING ${DECISION_COLUMNS}`,
      [id, input.title, input.text, input.tags, input.subject ?? null, decisionSearchText(input.title, input.text), new Date(time)],
    );
    return decisionFromRow(expectRow(rows, "decision", id));
  }

  async getDecision(id: string): Promise<Decision | undefined> {
    const rows = await this.rows<DecisionRow>(`SELECT ${DECISION_COLUMNS} FROM ${this.t.decisions} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : decisionFromRow(rows[0]);
  }

  async queryDecisions(query: DecisionQuery): Promise<Decision[]> {
    const params = new QueryParameters();
    const conditions: string[] = [];
    const words = decisionSearchWords(query.text);
    if (words.length > 0) conditions.push(`NOT EXISTS (SELECT 1 FROM unnest(${params.add(words)}::text[]) AS word WHERE strpos(search_text, word) = 0)`);
    if (query.tags !== undefined && query.tags.length > 0) conditions.push(`tags @> ${params.add(query.tags)}::text[]`);
    if (query.subject !== undefined) conditions.push(`subject = ${params.add(query.subject)}`);
    const page = pageClause({ limit: query.limit }, params);
    const rows = await this.rows<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM ${this.t.decisions} ${whereSql(conditions)} ORDER BY id DESC ${page}`,
      params.values,
    );
    return rows.map(decisionFromRow);
  }

  // Plumbing

  private async rows<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const result = await this.pool.query<R>(sql, params);
    return result.rows;
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let failure: unknown;
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      failure = error;
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // A connection that failed mid-transaction is not returned to the pool.
      client.release(failure instanceof Error ? failure : undefined);
    }
  }
}

function expectRow<R>(rows: R[], what: string, id: string): R {
  const row = rows[0];
  if (row === undefined) throw stateRecordNotFound(what, id);
  return row;
}

function whereSql(conditions: string[]): string {
  return conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
}

function deadLetterWhere(filter: DeadLetterFilter, params: QueryParameters): string {
  const conditions: string[] = [];
  if (filter.integration !== undefined) conditions.push(`integration = ${params.add(filter.integration)}`);
  if (filter.status !== undefined) conditions.push(`status = ${params.add(filter.status)}`);
  if (filter.before !== undefined) conditions.push(`created_at < ${params.add(filter.before)}`);
  if (filter.ids !== undefined) conditions.push(`id = ANY(${params.add(filter.ids)}::text[])`);
  return whereSql(conditions);
}

function pageClause(filter: { limit?: number | undefined; offset?: number | undefined }, params: QueryParameters): string {
  const limit = pageBound(filter.limit, "limit");
  const offset = pageBound(filter.offset, "offset");
  const parts: string[] = [];
  if (limit !== undefined) parts.push(`LIMIT ${params.add(limit)}`);
  if (offset !== undefined) parts.push(`OFFSET ${params.add(offset)}`);
  return parts.join(" ");
}
