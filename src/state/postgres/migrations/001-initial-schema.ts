import type { PostgresMigration } from "./postgres-migration.js";

/**
 * JSON values use `json` rather than `jsonb`: the text is kept as written, so key order,
 * `\u0000` and every number round-trip exactly; nothing queries inside them. Ids and
 * checkpoint scopes use the "C" collation so they sort by code point, as in SQLite.
 */
export const initialSchema: PostgresMigration = {
  version: 1,
  name: "initial schema",
  sql: (t) => `
CREATE TABLE ${t.checkpoints} (
  scope text COLLATE "C" PRIMARY KEY,
  value json NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE ${t.deadLetters} (
  id text COLLATE "C" PRIMARY KEY,
  integration text NOT NULL,
  stage text NOT NULL,
  message json NOT NULL,
  error json NOT NULL,
  attempts integer NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed')),
  created_at timestamptz NOT NULL,
  replayed_at timestamptz,
  replay_attempts integer NOT NULL DEFAULT 0,
  last_replay_error text
);
CREATE INDEX junction_dead_letters_integration ON ${t.deadLetters} (integration, id);
CREATE INDEX junction_dead_letters_created_at ON ${t.deadLetters} (created_at);

CREATE TABLE ${t.idempotencyKeys} (
  scope text NOT NULL,
  key text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  result json,
  PRIMARY KEY (scope, key)
);
CREATE INDEX junction_idempotency_keys_expires_at ON ${t.idempotencyKeys} (expires_at);

CREATE TABLE ${t.runs} (
  id text COLLATE "C" PRIMARY KEY,
  integration text NOT NULL,
  trigger text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial', 'interrupted')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  read_count bigint NOT NULL DEFAULT 0,
  written_count bigint NOT NULL DEFAULT 0,
  filtered_count bigint NOT NULL DEFAULT 0,
  dead_lettered_count bigint NOT NULL DEFAULT 0,
  retried_count bigint NOT NULL DEFAULT 0,
  error text
);
CREATE INDEX junction_runs_integration ON ${t.runs} (integration, id);

CREATE TABLE ${t.leases} (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE ${t.decisions} (
  id text COLLATE "C" PRIMARY KEY,
  title text NOT NULL,
  text text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  subject text,
  search_text text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX junction_decisions_tags ON ${t.decisions} USING gin (tags);
CREATE INDEX junction_decisions_subject ON ${t.decisions} (subject, id);
`,
};
