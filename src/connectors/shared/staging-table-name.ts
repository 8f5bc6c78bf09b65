import { createHash } from "node:crypto";
import { configError } from "../../core/errors.js";
import { isSqlIdentifier } from "./sql-identifier.js";

export const STAGING_SUFFIX = "__junction_staging";
export const OLD_SUFFIX = "__junction_old";

/** The tables a `replace` target works with, next to the target and in its schema. */
export interface ReplaceTableNames {
  /** Filled by the run, swapped in when the run completes. */
  staging: string;
  /** The previous target during a swap, dropped right after. */
  old: string;
}

/**
 * `<table>__junction_staging` and `<table>__junction_old`, kept within the engine's
 * identifier length (PostgreSQL 63 bytes, MySQL 64 characters): a name that would be
 * longer is cut and given a short hash of the full table name, so two long names that
 * share a prefix still get different staging tables.
 */
export function replaceTableNames(table: string, maxLength: number): ReplaceTableNames {
  if (!isSqlIdentifier(table)) throw configError(`table ${JSON.stringify(table)} is not a valid SQL identifier`, { code: "config.sql_identifier" });
  return { staging: fit(table, STAGING_SUFFIX, maxLength), old: fit(table, OLD_SUFFIX, maxLength) };
}

function fit(table: string, suffix: string, maxLength: number): string {
  if (table.length + suffix.length <= maxLength) return `${table}${suffix}`;
  const hash = createHash("sha256").update(table).digest("hex").slice(0, 8);
  return `${table.slice(0, maxLength - suffix.length - hash.length - 1)}_${hash}${suffix}`;
}
