import type { StoredMessage } from "../core/message.js";
import { fromJsonText } from "./stored-json.js";
import type { Checkpoint, DeadLetter, DeadLetterStatus, Decision, IdempotencyRecord, Lease, RunRecord, RunStatus } from "./types.js";

/**
 * Row shapes shared by both stores. SQLite gives times as epoch milliseconds and
 * PostgreSQL as Date; PostgreSQL gives bigint counters as strings. JSON columns are
 * always read as text.
 */
type DbTime = Date | number;
type DbInteger = number | string;

function toDate(value: DbTime): Date {
  return value instanceof Date ? value : new Date(value);
}

function toInteger(value: DbInteger): number {
  return typeof value === "number" ? value : Number(value);
}

export interface CheckpointRow {
  scope: string;
  value: string;
  updated_at: DbTime;
}

export function checkpointFromRow(row: CheckpointRow): Checkpoint {
  return { scope: row.scope, value: fromJsonText(row.value), updatedAt: toDate(row.updated_at) };
}

export interface DeadLetterRow {
  id: string;
  integration: string;
  stage: string;
  message: string;
  error: string;
  attempts: DbInteger;
  status: string;
  created_at: DbTime;
  replayed_at: DbTime | null;
  replay_attempts: DbInteger;
  last_replay_error: string | null;
}

export function deadLetterFromRow(row: DeadLetterRow): DeadLetter {
  const deadLetter: DeadLetter = {
    id: row.id,
    integration: row.integration,
    stage: row.stage,
    message: fromJsonText(row.message) as StoredMessage,
    error: fromJsonText(row.error) as DeadLetter["error"],
    attempts: toInteger(row.attempts),
    status: row.status as DeadLetterStatus,
    createdAt: toDate(row.created_at),
    replayAttempts: toInteger(row.replay_attempts),
  };
  if (row.replayed_at !== null) deadLetter.replayedAt = toDate(row.replayed_at);
  if (row.last_replay_error !== null) deadLetter.lastReplayError = row.last_replay_error;
  return deadLetter;
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  created_at: DbTime;
  expires_at: DbTime;
  result: string | null;
}

export function idempotencyFromRow(row: IdempotencyRow): IdempotencyRecord {
  const record: IdempotencyRecord = { scope: row.scope, key: row.key, createdAt: toDate(row.created_at), expiresAt: toDate(row.expires_at) };
  if (row.result !== null) record.result = fromJsonText(row.result);
  return record;
}

export interface RunRow {
  id: string;
  integration: string;
  trigger: string;
  status: string;
  started_at: DbTime;
  finished_at: DbTime | null;
  read_count: DbInteger;
  written_count: DbInteger;
  filtered_count: DbInteger;
  dead_lettered_count: DbInteger;
  retried_count: DbInteger;
  error: string | null;
}

export function runFromRow(row: RunRow): RunRecord {
  const run: RunRecord = {
    id: row.id,
    integration: row.integration,
    trigger: row.trigger,
    status: row.status as RunStatus,
    startedAt: toDate(row.started_at),
    counts: {
      read: toInteger(row.read_count),
      written: toInteger(row.written_count),
      filtered: toInteger(row.filtered_count),
      deadLettered: toInteger(row.dead_lettered_count),
      retried: toInteger(row.retried_count),
    },
  };
  if (row.finished_at !== null) run.finishedAt = toDate(row.finished_at);
  if (row.error !== null) run.error = row.error;
  return run;
}

export interface LeaseRow {
  name: string;
  holder: string;
  expires_at: DbTime;
}

export function leaseFromRow(row: LeaseRow): Lease {
  return { name: row.name, holder: row.holder, expiresAt: toDate(row.expires_at) };
}

export interface DecisionRow {
  id: string;
  title: string;
  text: string;
  /** JSON array text in SQLite, text[] in PostgreSQL. */
  tags: string | string[];
  subject: string | null;
  created_at: DbTime;
}

export function decisionFromRow(row: DecisionRow): Decision {
  const decision: Decision = {
    id: row.id,
    title: row.title,
    text: row.text,
    tags: typeof row.tags === "string" ? (fromJsonText(row.tags) as string[]) : row.tags,
    createdAt: toDate(row.created_at),
  };
  if (row.subject !== null) decision.subject = row.subject;
  return decision;
}
