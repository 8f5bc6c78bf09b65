import type { MigrationDefinition } from "../../migration.js";

export interface SqliteMigration extends MigrationDefinition {
  /** Statements run in the migration's transaction. */
  sql: string;
}
