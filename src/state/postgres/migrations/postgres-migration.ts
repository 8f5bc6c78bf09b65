import type { MigrationDefinition } from "../../migration.js";
import type { PostgresTables } from "../postgres-tables.js";

export interface PostgresMigration extends MigrationDefinition {
  /** Statements run in the migration's transaction; table names come qualified with the store's schema. */
  sql(tables: PostgresTables): string;
}
