import { configError } from "../../core/errors.js";
import { parseTableName } from "../shared/sql-identifier.js";
import type { SourceDescription } from "../types.js";
import type { MysqlDatabase } from "./database.js";
import { describeMysqlQuery, describeMysqlTable } from "./describe.js";
import type { MysqlSourceOptions } from "./schema.js";
import type { SourcePlan } from "./source-query.js";

/** InnoDB's row estimate (from index statistics, no scan). */
const ESTIMATE_SQL = "SELECT TABLE_ROWS AS table_rows FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

/**
 * What a keyset source reads: a table's declared columns from information_schema (with the
 * comments that carry portable types), a query's from its result metadata; for a full read
 * of a table, InnoDB's row estimate.
 */
export async function describeMysqlSource(database: MysqlDatabase, options: MysqlSourceOptions, plan: SourcePlan): Promise<SourceDescription> {
  const what = `mysql source ${plan.label}`;
  try {
    if (options.table === undefined) return { schema: await describeMysqlQuery(database, `SELECT ${plan.select} FROM ${plan.from}`, plan.keys) };
    const table = parseTableName(options.table);
    const read = plan.select === "*" ? undefined : [...new Set([...(options.columns ?? []), ...plan.keys, ...plan.cursors, ...(plan.softDelete === undefined ? [] : [plan.softDelete])])];
    const schema = await describeMysqlTable(database, table, read, plan.keys);
    if (schema.columns.length === 0) {
      throw configError(`${what}: table ${options.table} does not exist (or has none of the columns read); check the table name and the connection's database`, { code: "mysql.no_such_table" });
    }
    const description: SourceDescription = { schema };
    if (!plan.incremental) {
      const rows = (await database.execute(ESTIMATE_SQL, [table.schema ?? null, table.table])).rows[0]?.table_rows;
      if (rows !== null && rows !== undefined) description.estimatedCount = Number(rows);
    }
    return description;
  } catch (error) {
    throw database.failure(error, `${what}: describing the columns`);
  }
}
