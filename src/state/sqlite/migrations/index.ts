import { initialSchema } from "./001-initial-schema.js";
import type { SqliteMigration } from "./sqlite-migration.js";

export type { SqliteMigration } from "./sqlite-migration.js";

/** Every SQLite migration in version order; append new ones, never edit applied ones. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [initialSchema];
