/** One step of a store's schema history; version 1 is the initial schema. */
export interface MigrationDefinition {
  version: number;
  name: string;
}

/** The migrations of `all` not yet in `applied`, in ascending version order. */
export function pendingMigrations<M extends MigrationDefinition>(all: readonly M[], applied: Iterable<number>): M[] {
  const done = new Set(applied);
  return [...all].sort((a, b) => a.version - b.version).filter((migration) => !done.has(migration.version));
}
