import type { SqliteMigration } from "./sqlite-migration.js";

/** Times are epoch milliseconds (UTC); JSON values are JSON text. */
export const initialSchema: SqliteMigration = {
  version: 1,
  name: "initial schema",
  sql: `
CREATE TABLE junction_checkpoints (
  scope TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE junction_dead_letters (
  id TEXT PRIMARY KEY,
  integration TEXT NOT NULL,
  stage TEXT NOT NULL,
  message TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed')),
  created_at INTEGER NOT NULL,
  replayed_at INTEGER,
  replay_attempts INTEGER NOT NULL DEFAULT 0,
  last_replay_error TEXT
);
CREATE INDEX junction_dead_letters_integration ON junction_dead_letters (integration, id);
CREATE INDEX junction_dead_letters_created_at ON junction_dead_letters (created_at);

CREATE TABLE junction_idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  result TEXT,
  PRIMARY KEY (scope, key)
);
CREATE INDEX junction_idempotency_keys_expires_at ON junction_idempotency_keys (expires_at);

CREATE TABLE junction_runs (
  id TEXT PRIMARY KEY,
  integration TEXT NOT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial', 'interrupted')),
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  read_count INTEGER NOT NULL DEFAULT 0,
  written_count INTEGER NOT NULL DEFAULT 0,
  filtered_count INTEGER NOT NULL DEFAULT 0,
  dead_lettered_count INTEGER NOT NULL DEFAULT 0,
  retried_count INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX junction_runs_integration ON junction_runs (integration, id);

CREATE TABLE junction_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE junction_decisions (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  subject TEXT,
  search_text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX junction_decisions_subject ON junction_decisions (subject, id);
`,
};
