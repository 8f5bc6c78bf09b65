import type { SqliteMigration } from "./sqlite-migration.js";

/**
 * Outbound webhook deliveries (one row per event and endpoint), the log of every attempt,
 * and the per-endpoint state (disabled, failing since). While a delivery is pending,
 * `next_attempt_at` is when it is due; a claim moves it forward by the lease.
 */
export const webhookDeliveries: SqliteMigration = {
  version: 3,
  name: "webhook deliveries",
  sql: `
CREATE TABLE junction_webhook_deliveries (
  id TEXT PRIMARY KEY,
  outbound TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  message_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_attempt_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  created_at INTEGER NOT NULL,
  UNIQUE (outbound, endpoint, message_id)
);
CREATE INDEX junction_webhook_deliveries_due ON junction_webhook_deliveries (status, next_attempt_at);
CREATE INDEX junction_webhook_deliveries_endpoint ON junction_webhook_deliveries (outbound, endpoint, status, created_at);

CREATE TABLE junction_webhook_delivery_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES junction_webhook_deliveries (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  latency_ms REAL NOT NULL,
  status INTEGER,
  response_body TEXT,
  error TEXT
);
CREATE INDEX junction_webhook_delivery_attempts_delivery ON junction_webhook_delivery_attempts (delivery_id, attempt);

CREATE TABLE junction_webhook_endpoints (
  outbound TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  disabled_at INTEGER,
  disabled_reason TEXT,
  failing_since INTEGER,
  PRIMARY KEY (outbound, endpoint)
);
`,
};
