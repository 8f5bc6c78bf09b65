import type { Logger } from "pino";
import { configError } from "../../../core/errors.js";
import type { PostgresDatabase } from "../database.js";
import { postgresFailure, sqlState } from "../postgres-errors.js";
import type { CdcPlan } from "./cdc-plan.js";

interface PublicationRow {
  puballtables: boolean;
  pubinsert: boolean;
  pubupdate: boolean;
  pubdelete: boolean;
  publishes_table: boolean;
}

const DUPLICATE_OBJECT = "42710";

/**
 * Creates the publication for the table when it is missing. An existing publication is
 * used as it is, never altered (it may serve others): it must publish the table's
 * inserts, updates and deletes, or the source stops with a config error saying how to fix it.
 */
export async function ensurePublication(database: PostgresDatabase, plan: CdcPlan, logger: Logger): Promise<void> {
  const existing = await readPublication(database, plan);
  if (existing === undefined) {
    try {
      // Truncates are not published: they cannot be expressed as row changes.
      await database.query(`CREATE PUBLICATION "${plan.publication}" FOR TABLE ${plan.qualified} WITH (publish = 'insert, update, delete')`);
      logger.info({ publication: plan.publication, table: plan.label }, "postgres cdc: created publication");
      return;
    } catch (error) {
      // Another instance created it at the same moment: check what it made.
      if (sqlState(error) !== DUPLICATE_OBJECT) throw postgresFailure(error, `postgres cdc source: creating publication ${plan.publication}`);
    }
    const created = await readPublication(database, plan);
    if (created !== undefined) checkPublication(created, plan);
    return;
  }
  checkPublication(existing, plan);
}

async function readPublication(database: PostgresDatabase, plan: CdcPlan): Promise<PublicationRow | undefined> {
  try {
    const result = await database.query<PublicationRow>(
      `SELECT p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete,
              EXISTS (SELECT 1 FROM pg_publication_tables t WHERE t.pubname = p.pubname AND t.schemaname = $2 AND t.tablename = $3) AS publishes_table
       FROM pg_publication p WHERE p.pubname = $1`,
      [plan.publication, plan.schema, plan.table],
    );
    return result.rows[0];
  } catch (error) {
    throw postgresFailure(error, `postgres cdc source: reading publication ${plan.publication}`);
  }
}

function checkPublication(row: PublicationRow, plan: CdcPlan): void {
  const name = plan.publication;
  if (!row.publishes_table) {
    throw configError(
      `postgres cdc source: publication ${name} exists but does not publish table ${plan.schema}.${plan.table}; ` +
        `add it with ALTER PUBLICATION "${name}" ADD TABLE ${plan.qualified}, or set publication to another name (Junction creates a missing one)`,
      { code: "config.postgres_publication", context: { publication: name } },
    );
  }
  const missing = [row.pubinsert ? undefined : "insert", row.pubupdate ? undefined : "update", row.pubdelete ? undefined : "delete"].filter((op) => op !== undefined);
  if (missing.length > 0) {
    throw configError(
      `postgres cdc source: publication ${name} does not publish ${missing.join(", ")}s, so those changes would be missed; ` +
        `run ALTER PUBLICATION "${name}" SET (publish = 'insert, update, delete'), or set publication to another name`,
      { code: "config.postgres_publication", context: { publication: name } },
    );
  }
}
