import { configError } from "../../../core/errors.js";
import type { PostgresDatabase } from "../database.js";
import { postgresFailure } from "../postgres-errors.js";

/** Logical decoding needs wal_level = logical; anything less fails here with how to set it. */
export async function checkWalLevel(database: PostgresDatabase): Promise<void> {
  let level: string | undefined;
  try {
    level = (await database.query<{ wal_level: string }>("SHOW wal_level")).rows[0]?.wal_level;
  } catch (error) {
    throw postgresFailure(error, "postgres cdc source: reading wal_level");
  }
  if (level === "logical") return;
  throw configError(
    `postgres cdc source: the server runs with wal_level = ${level ?? "unknown"}, but change data capture needs wal_level = logical. ` +
      "Run ALTER SYSTEM SET wal_level = logical and restart PostgreSQL (managed services: rds.logical_replication = 1 on RDS/Aurora, cloudsql.logical_decoding = on on Cloud SQL)",
    { code: "config.postgres_wal_level", context: { wal_level: level } },
  );
}
