import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
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
  StateStore,
} from "../types.js";
import { sqliteDatabaseIdentity } from "./database-identity.js";
import { openSqlite } from "./sqlite-driver.js";
import type { SqliteConnection, SqliteRunResult, SqliteStatement } from "./sqlite-driver.js";
import { SQLITE_MIGRATIONS, type SqliteMigration } from "./migrations/index.js";
import { SqliteWebhookInbox } from "./webhook-inbox.js";
import { SqliteWebhookDeliveries } from "./webhook-deliveries.js";

export interface SqliteStateStoreOptions {
  /** Shown in logs and `junction status`; defaults to `sqlite:<filename>`. */
  location?: string;
  /** Migrations to apply; defaults to all of Junction's. */
  migrations?: readonly SqliteMigration[];
}

const BUSY_TIMEOUT_MS = 5000;
const DEAD_LETTER_COLUMNS = "id, integration, stage, message, error, attempts, status, created_at, replayed_at, replay_attempts, last_replay_error";
const RUN_COLUMNS =
  "id, integration, trigger, status, started_at, finished_at, read_count, written_count, filtered_count, dead_lettered_count, retried_count, error";

interface Where {
  sql: string;
  params: unknown[];
}

/**
 * The embedded state store: one SQLite file in WAL mode. the driver is synchronous,
 * so every statement is atomic with respect to this process; other processes sharing
 * the file are serialised by SQLite's write lock (waiting up to `busy_timeout`).
 */
export class SqliteStateStore implements StateStore {
  readonly kind = "sqlite" as const;
  readonly location: string;
  readonly sharedCheckpoints: SharedDatabaseCheckpoints | undefined;
  readonly webhookInbox: SqliteWebhookInbox;
  readonly webhookDeliveries: SqliteWebhookDeliveries;
  private readonly db: SqliteConnection;
  private readonly migrations: readonly SqliteMigration[];
  private readonly ids = new SortableIdSequence();
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(filename: string, options: SqliteStateStoreOptions = {}) {
    const inMemory = filename === ":memory:" || filename === "";
    if (!inMemory) mkdirSync(dirname(filename), { recursive: true });
    this.location = options.location ?? `sqlite:${filename}`;
    this.migrations = options.migrations ?? SQLITE_MIGRATIONS;
    this.db = openSqlite(filename, { busyTimeoutMs: BUSY_TIMEOUT_MS });
    this.sharedCheckpoints = inMemory ? undefined : sqliteSharedCheckpoints(filename);
    this.webhookInbox = new SqliteWebhookInbox(this.db, this.ids);
    this.webhookDeliveries = new SqliteWebhookDeliveries(this.db, this.ids);
    try {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("foreign_keys = ON");
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  async migrate(): Promise<void> {
    // IMMEDIATE takes the write lock before reading the applied versions, so two
    // processes starting together apply each migration once.
    this.db.transaction(() => {
        this.db.exec(
          "CREATE TABLE IF NOT EXISTS junction_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        );
        const applied = this.all<{ version: number }>("SELECT version FROM junction_migrations").map((row) => row.version);
        for (const migration of pendingMigrations(this.migrations, applied)) {
          this.db.exec(migration.sql);
          this.run("INSERT INTO junction_migrations (version, name, applied_at) VALUES (?, ?, ?)", migration.version, migration.name, Date.now());
        }
    }, "immediate");
  }

  async appliedMigrations(): Promise<number[]> {
    const table = this.get<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'junction_migrations'");
    if (table === undefined) return [];
    return this.all<{ version: number }>("SELECT version FROM junction_migrations ORDER BY version").map((row) => row.version);
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  // Checkpoints

  async getCheckpoint(scope: string): Promise<Checkpoint | undefined> {
    const row = this.get<CheckpointRow>("SELECT scope, value, updated_at FROM junction_checkpoints WHERE scope = ?", scope);
    return row === undefined ? undefined : checkpointFromRow(row);
  }

  async setCheckpoint(scope: string, value: unknown): Promise<void> {
    const statement = checkpointUpsert(scope, value);
    this.run(statement.sql, ...statement.params);
  }

  async deleteCheckpoint(scope: string): Promise<boolean> {
    return this.run("DELETE FROM junction_checkpoints WHERE scope = ?", scope).changes > 0;
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    return this.all<CheckpointRow>("SELECT scope, value, updated_at FROM junction_checkpoints ORDER BY scope").map(checkpointFromRow);
  }

  // Dead letters

  async addDeadLetter(input: NewDeadLetter): Promise<DeadLetter> {
    const { id, time } = this.ids.next();
    this.run(
      `INSERT INTO junction_dead_letters (id, integration, stage, message, error, attempts, status, created_at, replay_attempts)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, 0)`,
      id,
      input.integration,
      input.stage,
      toJsonText(input.message, "the dead-lettered message"),
      toJsonText(input.error, "the dead-letter error"),
      input.attempts,
      time,
    );
    const stored = await this.getDeadLetter(id);
    if (stored === undefined) throw stateRecordNotFound("dead letter", id);
    return stored;
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const row = this.get<DeadLetterRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM junction_dead_letters WHERE id = ?`, id);
    return row === undefined ? undefined : deadLetterFromRow(row);
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const where = deadLetterWhere(filter);
    const page = pageClause(filter);
    return this.all<DeadLetterRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM junction_dead_letters ${where.sql} ORDER BY id DESC ${page.sql}`, ...where.params, ...page.params).map(
      deadLetterFromRow,
    );
  }

  async countDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const where = deadLetterWhere(filter);
    const page = pageClause(filter);
    if (page.params.length === 0) {
      return this.get<{ count: number }>(`SELECT count(*) AS count FROM junction_dead_letters ${where.sql}`, ...where.params)?.count ?? 0;
    }
    const sql = `SELECT count(*) AS count FROM (SELECT id FROM junction_dead_letters ${where.sql} ORDER BY id DESC ${page.sql})`;
    return this.get<{ count: number }>(sql, ...where.params, ...page.params)?.count ?? 0;
  }

  async markDeadLetterReplayed(id: string): Promise<void> {
    const changed = this.run("UPDATE junction_dead_letters SET status = 'replayed', replayed_at = ? WHERE id = ?", Date.now(), id).changes;
    if (changed === 0) throw stateRecordNotFound("dead letter", id);
  }

  async recordDeadLetterReplayFailure(id: string, error: string): Promise<void> {
    const changed = this.run(
      "UPDATE junction_dead_letters SET replay_attempts = replay_attempts + 1, last_replay_error = ? WHERE id = ?",
      error,
      id,
    ).changes;
    if (changed === 0) throw stateRecordNotFound("dead letter", id);
  }

  async purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const where = deadLetterWhere(filter);
    const page = pageClause(filter);
    if (page.params.length === 0) return this.run(`DELETE FROM junction_dead_letters ${where.sql}`, ...where.params).changes;
    const sql = `DELETE FROM junction_dead_letters WHERE id IN (SELECT id FROM junction_dead_letters ${where.sql} ORDER BY id DESC ${page.sql})`;
    return this.run(sql, ...where.params, ...page.params).changes;
  }

  // Idempotency keys

  async claimIdempotencyKey(scope: string, key: string, ttlMs: number, result?: unknown): Promise<boolean> {
    const now = Date.now();
    const claimed = this.run(
      `INSERT INTO junction_idempotency_keys AS k (scope, key, created_at, expires_at, result) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (scope, key) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at, result = excluded.result
       WHERE k.expires_at <= excluded.created_at`,
      scope,
      key,
      now,
      now + ttlMilliseconds(ttlMs),
      result === undefined ? null : toJsonText(result, "the idempotency result"),
    ).changes;
    return claimed > 0;
  }

  async getIdempotencyKey(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.get<IdempotencyRow>(
      "SELECT scope, key, created_at, expires_at, result FROM junction_idempotency_keys WHERE scope = ? AND key = ? AND expires_at > ?",
      scope,
      key,
      Date.now(),
    );
    return row === undefined ? undefined : idempotencyFromRow(row);
  }

  async releaseIdempotencyKey(scope: string, key: string): Promise<void> {
    this.run("DELETE FROM junction_idempotency_keys WHERE scope = ? AND key = ?", scope, key);
  }

  async pruneIdempotencyKeys(now: Date = new Date()): Promise<number> {
    return this.run("DELETE FROM junction_idempotency_keys WHERE expires_at <= ?", now.getTime()).changes;
  }

  // Runs

  async startRun(input: NewRun): Promise<RunRecord> {
    const { id, time } = this.ids.next();
    this.run("INSERT INTO junction_runs (id, integration, trigger, status, started_at) VALUES (?, ?, ?, 'running', ?)", id, input.integration, input.trigger, time);
    const run = await this.getRun(id);
    if (run === undefined) throw stateRecordNotFound("run", id);
    return run;
  }

  async updateRun(id: string, counts: Partial<RunCounts>): Promise<void> {
    const changed = this.run(
      `UPDATE junction_runs SET read_count = read_count + ?, written_count = written_count + ?, filtered_count = filtered_count + ?,
         dead_lettered_count = dead_lettered_count + ?, retried_count = retried_count + ?
       WHERE id = ? AND status = 'running'`,
      counts.read ?? 0,
      counts.written ?? 0,
      counts.filtered ?? 0,
      counts.deadLettered ?? 0,
      counts.retried ?? 0,
      id,
    ).changes;
    if (changed === 0 && (await this.getRun(id)) === undefined) throw stateRecordNotFound("run", id);
  }

  async finishRun(id: string, result: RunResult): Promise<void> {
    const changed = this.run(
      `UPDATE junction_runs SET status = ?, finished_at = ?, read_count = ?, written_count = ?, filtered_count = ?,
         dead_lettered_count = ?, retried_count = ?, error = ?
       WHERE id = ?`,
      result.status,
      Date.now(),
      result.counts.read,
      result.counts.written,
      result.counts.filtered,
      result.counts.deadLettered,
      result.counts.retried,
      result.error ?? null,
      id,
    ).changes;
    if (changed === 0) throw stateRecordNotFound("run", id);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM junction_runs WHERE id = ?`, id);
    return row === undefined ? undefined : runFromRow(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.integration !== undefined) {
      conditions.push("integration = ?");
      params.push(filter.integration);
    }
    if (filter.status !== undefined) {
      conditions.push("status = ?");
      params.push(filter.status);
    }
    const page = pageClause({ limit: filter.limit });
    const sql = `SELECT ${RUN_COLUMNS} FROM junction_runs ${whereSql(conditions)} ORDER BY id DESC ${page.sql}`;
    return this.all<RunRow>(sql, ...params, ...page.params).map(runFromRow);
  }

  // Leases

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const changed = this.run(
      `INSERT INTO junction_leases AS l (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE l.holder = excluded.holder OR l.expires_at <= ?`,
      name,
      holder,
      now + ttlMilliseconds(ttlMs),
      now,
    ).changes;
    return changed > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.run("DELETE FROM junction_leases WHERE name = ? AND holder = ?", name, holder);
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const row = this.get<LeaseRow>("SELECT name, holder, expires_at FROM junction_leases WHERE name = ? AND expires_at > ?", name, Date.now());
    return row === undefined ? undefined : leaseFromRow(row);
  }

  // Decisions

  async recordDecision(input: NewDecision): Promise<Decision> {
    const { id, time } = this.ids.next();
    this.run(
      "INSERT INTO junction_decisions (id, title, text, tags, subject, search_text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      id,
      input.title,
      input.text,
      JSON.stringify(input.tags),
      input.subject ?? null,
      decisionSearchText(input.title, input.text),
      time,
    );
    const decision = await this.getDecision(id);
    if (decision === undefined) throw stateRecordNotFound("decision", id);
    return decision;
  }

  async getDecision(id: string): Promise<Decision | undefined> {
    const row = this.get<DecisionRow>("SELECT id, title, text, tags, subject, created_at FROM junction_decisions WHERE id = ?", id);
    return row === undefined ? undefined : decisionFromRow(row);
  }

  async queryDecisions(query: DecisionQuery): Promise<Decision[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const words = decisionSearchWords(query.text);
    if (words.length > 0) {
      conditions.push("NOT EXISTS (SELECT 1 FROM json_each(?) AS word WHERE instr(d.search_text, word.value) = 0)");
      params.push(JSON.stringify(words));
    }
    if (query.tags !== undefined && query.tags.length > 0) {
      conditions.push(
        "NOT EXISTS (SELECT 1 FROM json_each(?) AS wanted WHERE NOT EXISTS (SELECT 1 FROM json_each(d.tags) AS tag WHERE tag.value = wanted.value))",
      );
      params.push(JSON.stringify(query.tags));
    }
    if (query.subject !== undefined) {
      conditions.push("d.subject = ?");
      params.push(query.subject);
    }
    const page = pageClause({ limit: query.limit });
    const sql = `SELECT d.id, d.title, d.text, d.tags, d.subject, d.created_at FROM junction_decisions AS d ${whereSql(conditions)} ORDER BY d.id DESC ${page.sql}`;
    return this.all<DecisionRow>(sql, ...params, ...page.params).map(decisionFromRow);
  }

  // Statement plumbing: statements are prepared once per distinct SQL text (filters yield a bounded set).

  private prepare(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private run(sql: string, ...params: unknown[]): SqliteRunResult {
    return this.prepare(sql).run(...params);
  }

  private get<R>(sql: string, ...params: unknown[]): R | undefined {
    return this.prepare(sql).get(...params) as R | undefined;
  }

  private all<R>(sql: string, ...params: unknown[]): R[] {
    return this.prepare(sql).all(...params) as R[];
  }
}

function whereSql(conditions: string[]): string {
  return conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
}

function deadLetterWhere(filter: DeadLetterFilter): Where {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.integration !== undefined) {
    conditions.push("integration = ?");
    params.push(filter.integration);
  }
  if (filter.status !== undefined) {
    conditions.push("status = ?");
    params.push(filter.status);
  }
  if (filter.before !== undefined) {
    conditions.push("created_at < ?");
    params.push(filter.before.getTime());
  }
  if (filter.ids !== undefined) {
    // One JSON parameter instead of one per id: no limit on the number of ids.
    conditions.push("id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.ids));
  }
  return { sql: whereSql(conditions), params };
}

function pageClause(filter: { limit?: number | undefined; offset?: number | undefined }): Where {
  const limit = pageBound(filter.limit, "limit");
  const offset = pageBound(filter.offset, "offset");
  if (limit === undefined && offset === undefined) return { sql: "", params: [] };
  // SQLite needs a LIMIT before OFFSET; -1 means no limit.
  return { sql: "LIMIT ? OFFSET ?", params: [limit ?? -1, offset ?? 0] };
}

function checkpointUpsert(scope: string, value: unknown): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO junction_checkpoints (scope, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    params: [scope, toJsonText(value, `the checkpoint of "${scope}"`), Date.now()],
  };
}

/** The state file is identified by its real path, so a target naming it through a symlink or a relative path still matches. */
function sqliteSharedCheckpoints(filename: string): SharedDatabaseCheckpoints {
  return {
    databaseIdentity: async () => sqliteDatabaseIdentity(filename),
    checkpointStatement: checkpointUpsert,
  };
}
