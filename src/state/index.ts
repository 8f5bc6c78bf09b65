export * from "./types.js";
export { openStateStore, describeStateLocation } from "./open.js";
export { parseStateUrl, type StateTarget, type StateUrlOptions } from "./state-url.js";
export { SqliteStateStore, type SqliteStateStoreOptions } from "./sqlite/sqlite-state-store.js";
export { SQLITE_MIGRATIONS, type SqliteMigration } from "./sqlite/migrations/index.js";
export { PostgresStateStore, type PostgresStateStoreOptions } from "./postgres/postgres-state-store.js";
export { POSTGRES_MIGRATIONS, type PostgresMigration } from "./postgres/migrations/index.js";
export type { MigrationDefinition } from "./migration.js";
