import { configError } from "../../core/errors.js";
import type { RecordSchema } from "../record-schema.js";
import { quoteTableName } from "../shared/sql-identifier.js";
import type { SourceDescription } from "../types.js";
import type { SqliteDatabase } from "./database.js";
import type { SqliteSourceOptions } from "./schema.js";
import { readSourceColumns } from "./source-columns.js";
import type { SourcePlan } from "./source-query.js";
import { isTransientSqliteError, sqliteFailure } from "./sqlite-errors.js";
import { portableFromSqlite } from "./type-mapping.js";

/**
 * The declared columns a source reads (nothing when SQLite cannot describe a query) and,
 * for a full read of a table, its row count (cheap enough in an embedded database).
 */
export function describeSqliteSource(database: SqliteDatabase, options: SqliteSourceOptions, plan: SourcePlan): SourceDescription {
  const what = `sqlite source ${plan.label}`;
  try {
    const db = database.open();
    const read = readSourceColumns(db, options);
    if (read === undefined) return {};
    const { columns, primaryKey } = read;
    // Without a key option: the table's PRIMARY KEY, when all of it is read.
    const tableKey = primaryKey.every((name) => columns.some((column) => column.name === name)) ? primaryKey : [];
    const schema: RecordSchema = {
      columns: columns.map((column) => ({ name: column.name, type: portableFromSqlite(column.declared), nullable: !column.notNull && column.pk === 0, declared: column.declared })),
      key: options.key !== undefined ? [options.key] : tableKey,
    };
    const description: SourceDescription = { schema };
    if (options.table !== undefined && plan.mode !== "keyset") {
      const row = db.prepare(`SELECT count(*) AS n FROM ${quoteTableName(options.table)}`).get();
      description.estimatedCount = Number(row?.n ?? 0);
    }
    return description;
  } catch (error) {
    if (isTransientSqliteError(error)) throw sqliteFailure(error, `${what}: describing the columns`);
    throw configError(`${what}: cannot describe the columns: ${error instanceof Error ? error.message : String(error)}; check table, query and columns`, {
      code: "config.sqlite_source",
      cause: error,
    });
  }
}
