import { quoteIdentifier } from "../shared/sql-identifier.js";

/**
 * `CREATE TABLE IF NOT EXISTS` with columns in order of first appearance in `rows`,
 * typed from the first non-null value (bigint, or double precision when any number seen is fractional; boolean, jsonb, text;
 * text when only nulls were seen) and a PRIMARY KEY on `keys`.
 */
export function createTableSql(quotedTable: string, rows: readonly ReadonlyMap<string, unknown>[], keys: readonly string[]): string {
  const types = new Map<string, string | undefined>();
  for (const key of keys) types.set(key, undefined);
  for (const row of rows) {
    for (const [column, value] of row) {
      const known = types.get(column);
      // One fractional number in the batch makes an integer-looking column double precision.
      if (known === "bigint" && typeof value === "number" && !Number.isInteger(value)) types.set(column, "double precision");
      if (known !== undefined) continue;
      types.set(column, columnType(value));
    }
  }
  const definitions = [...types].map(([column, type]) => `${quoteIdentifier(column)} ${type ?? "text"}`);
  if (keys.length > 0) definitions.push(`PRIMARY KEY (${keys.map((key) => quoteIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${definitions.join(", ")})`;
}

function columnType(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? "bigint" : "double precision";
  if (typeof value === "bigint") return "bigint";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "text";
  if (value instanceof Uint8Array) return "bytea";
  if (value instanceof Date) return "timestamptz";
  return "jsonb";
}
