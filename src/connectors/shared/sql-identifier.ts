import { configError } from "../../core/errors.js";
import type { ConfigIssue } from "../types.js";

/** Plain SQL identifiers only: no quoting tricks, no spaces, no punctuation. */
export const SQL_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SQL_IDENTIFIER_RULE = "letters, digits and underscores, not starting with a digit";

export interface TableName {
  schema?: string;
  table: string;
}

export function isSqlIdentifier(name: string): boolean {
  return SQL_IDENTIFIER_PATTERN.test(name);
}

/** Why `name` is not a usable identifier, or undefined when it is. */
export function identifierProblem(name: string, what: string): string | undefined {
  if (isSqlIdentifier(name)) return undefined;
  return `${what} ${JSON.stringify(name)} is not a valid SQL identifier: use ${SQL_IDENTIFIER_RULE} (pattern ${SQL_IDENTIFIER_PATTERN.source})`;
}

/** Why `name` is not a usable `table` or `schema.table`, or undefined when it is. */
export function tableNameProblem(name: string, what = "table"): string | undefined {
  const parts = name.split(".");
  if (parts.length > 2 || !parts.every(isSqlIdentifier)) {
    return `${what} ${JSON.stringify(name)} is not a valid table name: use "table" or "schema.table", each part made of ${SQL_IDENTIFIER_RULE}`;
  }
  return undefined;
}

/** Double-quotes an identifier after validating it; throws a config JunctionError naming it and the rule. */
export function quoteIdentifier(name: string, what = "column"): string {
  const problem = identifierProblem(name, what);
  if (problem) throw configError(problem, { code: "config.sql_identifier", context: { identifier: name } });
  return `"${name}"`;
}

export function parseTableName(name: string, what = "table"): TableName {
  const problem = tableNameProblem(name, what);
  if (problem) throw configError(problem, { code: "config.sql_identifier", context: { identifier: name } });
  const [first, second] = name.split(".") as [string, string | undefined];
  return second === undefined ? { table: first } : { schema: first, table: second };
}

/** `"schema"."table"` or `"table"`, validated. */
export function quoteTableName(name: string, what = "table"): string {
  const parsed = parseTableName(name, what);
  return parsed.schema === undefined ? `"${parsed.table}"` : `"${parsed.schema}"."${parsed.table}"`;
}

/** Config issues for identifiers at `path` (for `check` functions). */
export function identifierIssues(names: readonly string[] | string | undefined, path: Array<string | number>, what: string): ConfigIssue[] {
  if (names === undefined) return [];
  if (typeof names === "string") {
    const problem = identifierProblem(names, what);
    return problem ? [{ path, message: problem }] : [];
  }
  const issues: ConfigIssue[] = [];
  names.forEach((name, index) => {
    const problem = identifierProblem(name, what);
    if (problem) issues.push({ path: [...path, index], message: problem });
  });
  return issues;
}

export function tableNameIssues(name: string | undefined, path: Array<string | number>, what = "table"): ConfigIssue[] {
  if (name === undefined) return [];
  const problem = tableNameProblem(name, what);
  return problem ? [{ path, message: problem }] : [];
}
