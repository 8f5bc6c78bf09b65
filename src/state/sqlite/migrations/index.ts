import { initialSchema } from "./001-initial-schema.js";
import { webhookInbox } from "./002-webhook-inbox.js";
import { webhookDeliveries } from "./003-webhook-deliveries.js";
import type { SqliteMigration } from "./sqlite-migration.js";

export type { SqliteMigration } from "./sqlite-migration.js";

/** Every SQLite migration in version order; append new ones, never edit applied ones. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [initialSchema, webhookInbox, webhookDeliveries];
