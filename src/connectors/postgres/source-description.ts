import { configError } from "../../core/errors.js";
import type { SourceDescription } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { describePostgresRelation } from "./describe.js";
import { postgresFailure } from "./postgres-errors.js";
import type { SourcePlan } from "./source-query.js";

/** The planner's row estimate, kept by VACUUM and ANALYZE; -1 before the table was ever analyzed. */
const ESTIMATE_SQL = "SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = to_regclass($1)";

/**
 * What a keyset source reads: the declared columns of its select (a query is described
 * without running it) and, for a full read of a table, the planner's row estimate.
 */
export async function describePostgresSource(database: PostgresDatabase, plan: SourcePlan, isTable: boolean, what: string): Promise<SourceDescription> {
  try {
    const schema = await describePostgresRelation(database, { from: plan.from, select: plan.select, key: plan.key, isTable });
    const description: SourceDescription = { schema };
    if (isTable && !plan.incremental) {
      const rows = (await database.query<{ rows: number }>(ESTIMATE_SQL, [plan.from])).rows[0]?.rows;
      if (typeof rows === "number" && rows >= 0) description.estimatedCount = Math.round(rows);
    }
    return description;
  } catch (error) {
    const failure = postgresFailure(error, `${what}: describing the columns`);
    if (failure.kind !== "permanent") throw failure;
    throw configError(`${failure.message}; check table, query and columns`, { code: "config.postgres_source", cause: error });
  }
}
