import type { StoredMessage } from "../core/message.js";
import type { WebhookDeliveryStore, WebhookInboxStore } from "./webhook-types.js";

export type * from "./webhook-types.js";

/**
 * Durable state shared by every runtime: checkpoints, dead letters, idempotency keys,
 * run history, leases and recorded integration decisions. Two implementations
 * (SQLite, PostgreSQL) pass one contract test suite.
 */
/** One SQL statement with its parameters, in the dialect of the database it is for. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/**
 * Lets a target that writes into the state store's own database put the checkpoint in
 * its write transaction, so the rows and the position commit together.
 */
export interface SharedDatabaseCheckpoints {
  /**
   * Which database holds the state: "sqlite:<real path of the file>" or
   * "postgres:<cluster system identifier>/<database>". A target compares it with its own;
   * undefined when it cannot be told (then the checkpoint is written after the target commits).
   */
  databaseIdentity(): Promise<string | undefined>;
  /** The upsert of one checkpoint (`?` placeholders for SQLite, `$1…` for PostgreSQL). */
  checkpointStatement(scope: string, value: unknown): SqlStatement;
}

export interface StateStore {
  readonly kind: "sqlite" | "postgres";
  /** Human-readable location without credentials, e.g. "sqlite:.junction/state.db". */
  readonly location: string;
  /** Present when a target in the same database can commit checkpoints with its writes. */
  readonly sharedCheckpoints?: SharedDatabaseCheckpoints;
  /** Verified inbound webhook events waiting for their integrations. */
  readonly webhookInbox: WebhookInboxStore;
  /** Outbound webhook deliveries and the log of their attempts. */
  readonly webhookDeliveries: WebhookDeliveryStore;

  /** Applies pending versioned migrations; safe to call on every start and from several processes. */
  migrate(): Promise<void>;
  /** Versions applied so far, ascending. */
  appliedMigrations(): Promise<number[]>;
  close(): Promise<void>;

  // Checkpoints: the last position durably processed, per scope (usually the integration name).
  getCheckpoint(scope: string): Promise<Checkpoint | undefined>;
  setCheckpoint(scope: string, value: unknown): Promise<void>;
  deleteCheckpoint(scope: string): Promise<boolean>;
  listCheckpoints(): Promise<Checkpoint[]>;

  // Dead letters.
  addDeadLetter(input: NewDeadLetter): Promise<DeadLetter>;
  getDeadLetter(id: string): Promise<DeadLetter | undefined>;
  listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  countDeadLetters(filter?: DeadLetterFilter): Promise<number>;
  /** Marks a dead letter replayed successfully (status "replayed", replayed_at set). */
  markDeadLetterReplayed(id: string): Promise<void>;
  /** Records a failed replay attempt: status stays "pending", replay_attempts + 1, last_replay_error set. */
  recordDeadLetterReplayFailure(id: string, error: string): Promise<void>;
  /** Deletes matching dead letters; returns how many were removed. */
  purgeDeadLetters(filter?: DeadLetterFilter): Promise<number>;

  // Idempotency keys.
  /** Atomically claims `key` in `scope`; true when this call claimed it, false when it was already held and unexpired. */
  claimIdempotencyKey(scope: string, key: string, ttlMs: number, result?: unknown): Promise<boolean>;
  getIdempotencyKey(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;
  /** Removes expired keys; returns how many. */
  pruneIdempotencyKeys(now?: Date): Promise<number>;

  // Run history.
  startRun(input: NewRun): Promise<RunRecord>;
  /** Adds to the counters of a running run (used for progress of long runs). */
  updateRun(id: string, counts: Partial<RunCounts>): Promise<void>;
  finishRun(id: string, result: RunResult): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;

  // Leases: at most one holder per name at a time (scheduled jobs across instances).
  /** Acquires or renews `name` for `holder`; true when `holder` holds it afterwards. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  getLease(name: string): Promise<Lease | undefined>;

  // Recorded integration decisions (`junction memory`).
  recordDecision(input: NewDecision): Promise<Decision>;
  getDecision(id: string): Promise<Decision | undefined>;
  /** Text matches title or body (case-insensitive substring per word, all words must match); every tag given must be present. */
  queryDecisions(query: DecisionQuery): Promise<Decision[]>;
}

export interface Checkpoint {
  scope: string;
  value: unknown;
  updatedAt: Date;
}

export type DeadLetterStatus = "pending" | "replayed";

export interface NewDeadLetter {
  integration: string;
  /** The message as it came from the source, before transforms, so a replay can re-run a fixed mapping. */
  message: StoredMessage;
  /** Where it failed: "source", "transform", "route", "sink", or "sink:<target>" at one of several targets (replayed to that target only). */
  stage: string;
  error: { kind: string; message: string; code?: string; context?: Record<string, unknown> };
  attempts: number;
}

export interface DeadLetter extends NewDeadLetter {
  id: string;
  status: DeadLetterStatus;
  createdAt: Date;
  replayedAt?: Date;
  replayAttempts: number;
  lastReplayError?: string;
}

export interface DeadLetterFilter {
  integration?: string;
  status?: DeadLetterStatus;
  /** Only dead letters created before this instant. */
  before?: Date;
  ids?: string[];
  limit?: number;
  offset?: number;
}

export interface IdempotencyRecord {
  scope: string;
  key: string;
  createdAt: Date;
  expiresAt: Date;
  result?: unknown;
}

export type RunStatus = "running" | "succeeded" | "failed" | "partial" | "interrupted";

export interface RunCounts {
  read: number;
  written: number;
  filtered: number;
  deadLettered: number;
  retried: number;
}

export interface NewRun {
  integration: string;
  trigger: string;
}

export interface RunResult {
  status: Exclude<RunStatus, "running">;
  counts: RunCounts;
  error?: string;
}

export interface RunRecord {
  id: string;
  integration: string;
  trigger: string;
  status: RunStatus;
  startedAt: Date;
  finishedAt?: Date;
  counts: RunCounts;
  error?: string;
}

export interface RunFilter {
  integration?: string;
  status?: RunStatus;
  limit?: number;
}

export interface Lease {
  name: string;
  holder: string;
  expiresAt: Date;
}

export interface NewDecision {
  title: string;
  text: string;
  tags: string[];
  /** Optional integration or connection the decision concerns. */
  subject?: string;
}

export interface Decision extends NewDecision {
  id: string;
  createdAt: Date;
}

export interface DecisionQuery {
  text?: string;
  tags?: string[];
  subject?: string;
  limit?: number;
}

export const EMPTY_COUNTS: Readonly<RunCounts> = Object.freeze({ read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 });
