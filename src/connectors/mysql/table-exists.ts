import type { TableName } from "../shared/sql-identifier.js";
import type { MysqlDatabase } from "./database.js";

/** Whether `table` exists (in its database, or the connection's default one). */
export async function mysqlTableExists(database: MysqlDatabase, table: TableName): Promise<boolean> {
  const result = await database.execute("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?", [table.schema ?? null, table.table]);
  return Number(result.rows[0]?.n ?? 0) > 0;
}
