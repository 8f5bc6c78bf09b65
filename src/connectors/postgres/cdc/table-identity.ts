import { configError } from "../../../core/errors.js";
import type { PostgresDatabase } from "../database.js";
import { postgresFailure } from "../postgres-errors.js";
import type { CdcPlan } from "./cdc-plan.js";

interface TableRow {
  relkind: string;
  relreplident: string;
  columns: string[];
  identity: string[];
}

/**
 * Checks, before streaming, that the table exists and that its deletes will carry the key:
 * pgoutput sends a deleted row's replica identity columns only (the primary key by
 * default), or the whole old row under REPLICA IDENTITY FULL.
 */
export async function checkTableIdentity(database: PostgresDatabase, plan: CdcPlan): Promise<void> {
  let row: TableRow | undefined;
  try {
    const result = await database.query<TableRow>(
      `SELECT c.relkind, c.relreplident,
              array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
              array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                    WHERE i.indrelid = c.oid AND CASE WHEN c.relreplident = 'd' THEN i.indisprimary ELSE i.indisreplident END) AS identity
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2`,
      [plan.schema, plan.table],
    );
    row = result.rows[0];
  } catch (error) {
    throw postgresFailure(error, `postgres cdc source ${plan.label}: checking the table`);
  }
  const what = `postgres cdc source: table ${plan.schema}.${plan.table}`;
  if (row === undefined) throw configError(`${what} does not exist; check table and the connection's schema`, { code: "config.postgres_cdc" });
  if (row.relkind !== "r") throw configError(`${what} is not a plain table (relkind ${row.relkind}); cdc reads ordinary tables only`, { code: "config.postgres_cdc" });
  const missing = plan.key.filter((column) => !row.columns.includes(column));
  if (missing.length > 0) throw configError(`${what} has no column ${missing.join(", ")}; fix key`, { code: "config.postgres_cdc" });
  if (plan.columns !== undefined) {
    const unknown = [...plan.columns].filter((column) => !row.columns.includes(column));
    if (unknown.length > 0) throw configError(`${what} has no column ${unknown.join(", ")}; fix columns`, { code: "config.postgres_cdc" });
  }
  if (row.relreplident === "f") return;
  const fix = `set key to the replica identity columns, or run ALTER TABLE ${plan.qualified} REPLICA IDENTITY FULL so deletes carry the whole old row`;
  if (row.relreplident === "n" || row.identity.length === 0) {
    throw configError(`${what} has no replica identity (no primary key, or REPLICA IDENTITY NOTHING): its updates and deletes cannot be replicated; add a primary key or ${fix}`, {
      code: "config.postgres_replica_identity",
    });
  }
  const uncovered = plan.key.filter((column) => !row.identity.includes(column));
  if (uncovered.length > 0) {
    throw configError(`${what}: deletes carry only the replica identity columns (${row.identity.join(", ")}), not key column ${uncovered.join(", ")}; ${fix}`, {
      code: "config.postgres_replica_identity",
    });
  }
}
