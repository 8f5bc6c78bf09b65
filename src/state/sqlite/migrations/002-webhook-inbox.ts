import type { SqliteMigration } from "./sqlite-migration.js";

/**
 * Verified inbound webhook events, one row per integration they are routed to, until that
 * integration settles them. Every accepted webhook writes here, so the table has as few
 * B-trees as its queries allow: keyed by id without a rowid, one index for claiming.
 */
export const webhookInbox: SqliteMigration = {
  version: 2,
  name: "webhook inbox",
  sql: `
CREATE TABLE junction_webhook_inbox (
  id TEXT PRIMARY KEY,
  endpoint TEXT NOT NULL,
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT,
  received_at INTEGER NOT NULL,
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  visible_at INTEGER NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX junction_webhook_inbox_integration ON junction_webhook_inbox (integration, id);
`,
};
