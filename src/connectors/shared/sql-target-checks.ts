import type { ConfigIssue } from "../types.js";
import { identifierIssues, tableNameIssues } from "./sql-identifier.js";

/** The target options every SQL connector shares. */
export interface SqlTargetOptions {
  table: string;
  mode?: string;
  key?: string | string[];
  columns?: string[];
}

/** Config problems of a SQL target: upsert or merge without key, and table, key and column names that are not plain identifiers. */
export function sqlTargetIssues(options: SqlTargetOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if ((options.mode === "upsert" || options.mode === "merge") && options.key === undefined) {
    issues.push({ path: ["key"], message: `mode ${options.mode} needs key (a PRIMARY KEY or UNIQUE column, or a list of them)` });
  }
  issues.push(...tableNameIssues(options.table, ["table"]));
  issues.push(...identifierIssues(options.key, ["key"], "key column"));
  issues.push(...identifierIssues(options.columns, ["columns"], "column"));
  return issues;
}
