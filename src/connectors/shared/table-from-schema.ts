import { configError } from "../../core/errors.js";
import type { ColumnSchema, RecordSchema } from "../record-schema.js";

export interface TableColumnsPlan {
  columns: ColumnSchema[];
  /** PRIMARY KEY columns (may be empty). */
  keys: string[];
}

/**
 * The columns a target table is created with from a source's declared schema: the
 * schema's columns (only those in `only`, when set), keyed by the target's `key` option or
 * else by the schema's key. Key columns are NOT NULL.
 */
export function tableColumnsPlan(schema: RecordSchema, targetKeys: readonly string[], only: ReadonlySet<string> | undefined, what: string): TableColumnsPlan {
  const keys = targetKeys.length > 0 ? [...targetKeys] : [...schema.key];
  const columns = schema.columns.filter((column) => only === undefined || only.has(column.name) || keys.includes(column.name));
  const missing = keys.filter((key) => !columns.some((column) => column.name === key));
  if (missing.length > 0) {
    throw configError(`${what}: key ${missing.join(", ")} is not among the source's columns (${columns.map((column) => column.name).join(", ")}); fix key, or create the table yourself`, {
      code: "config.sql_target",
    });
  }
  if (columns.length === 0) throw configError(`${what}: the source declares no column to create the table with; create the table yourself`, { code: "config.sql_target" });
  return { columns: columns.map((column) => (keys.includes(column.name) ? { ...column, nullable: false } : column)), keys };
}
