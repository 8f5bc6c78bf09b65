import { initialSchema } from "./001-initial-schema.js";
import { webhookInbox } from "./002-webhook-inbox.js";
import { webhookDeliveries } from "./003-webhook-deliveries.js";
import type { PostgresMigration } from "./postgres-migration.js";

export type { PostgresMigration } from "./postgres-migration.js";

/** Every PostgreSQL migration in version order; append new ones, never edit applied ones. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [initialSchema, webhookInbox, webhookDeliveries];
