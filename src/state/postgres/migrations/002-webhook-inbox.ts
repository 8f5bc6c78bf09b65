import type { PostgresMigration } from "./postgres-migration.js";

/** Verified inbound webhook events, one row per integration they are routed to, until that integration settles them. */
export const webhookInbox: PostgresMigration = {
  version: 2,
  name: "webhook inbox",
  sql: (t) => `
CREATE TABLE ${t.webhookInbox} (
  id text COLLATE "C" PRIMARY KEY,
  endpoint text NOT NULL,
  integration text NOT NULL,
  event_id text NOT NULL,
  event_type text,
  received_at timestamptz NOT NULL,
  headers json NOT NULL,
  body text NOT NULL,
  visible_at timestamptz NOT NULL,
  deliveries integer NOT NULL DEFAULT 0
);
CREATE INDEX junction_webhook_inbox_integration ON ${t.webhookInbox} (integration, id);
`,
};
