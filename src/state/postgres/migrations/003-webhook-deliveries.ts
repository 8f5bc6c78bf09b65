import type { PostgresMigration } from "./postgres-migration.js";

/**
 * Outbound webhook deliveries (one row per event and endpoint), the log of every attempt,
 * and the per-endpoint state (disabled, failing since). While a delivery is pending,
 * `next_attempt_at` is when it is due; a claim moves it forward by the lease.
 */
export const webhookDeliveries: PostgresMigration = {
  version: 3,
  name: "webhook deliveries",
  sql: (t) => `
CREATE TABLE ${t.webhookDeliveries} (
  id text COLLATE "C" PRIMARY KEY,
  outbound text NOT NULL,
  endpoint text NOT NULL,
  message_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_status integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (outbound, endpoint, message_id)
);
CREATE INDEX junction_webhook_deliveries_due ON ${t.webhookDeliveries} (status, next_attempt_at);
CREATE INDEX junction_webhook_deliveries_endpoint ON ${t.webhookDeliveries} (outbound, endpoint, status, created_at);

CREATE TABLE ${t.webhookDeliveryAttempts} (
  id text COLLATE "C" PRIMARY KEY,
  delivery_id text COLLATE "C" NOT NULL REFERENCES ${t.webhookDeliveries} (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL,
  latency_ms double precision NOT NULL,
  status integer,
  response_body text,
  error text
);
CREATE INDEX junction_webhook_delivery_attempts_delivery ON ${t.webhookDeliveryAttempts} (delivery_id, attempt);

CREATE TABLE ${t.webhookEndpoints} (
  outbound text NOT NULL,
  endpoint text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  disabled_at timestamptz,
  disabled_reason text,
  failing_since timestamptz,
  PRIMARY KEY (outbound, endpoint)
);
`,
};
