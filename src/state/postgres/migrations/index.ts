import { initialSchema } from "./001-initial-schema.js";
import type { PostgresMigration } from "./postgres-migration.js";

export type { PostgresMigration } from "./postgres-migration.js";

/** Every PostgreSQL migration in version order; append new ones, never edit applied ones. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [initialSchema];
