import { configError } from "../../core/errors.js";
import { identifierProblem, parseTableName } from "./sql-identifier.js";

/**
 * MySQL and MariaDB quote identifiers with backticks. Names are validated with the
 * shared plain-identifier rule first, so a backtick (or anything else) in config can
 * never reach the SQL text.
 */
export function quoteMysqlIdentifier(name: string, what = "column"): string {
  const problem = identifierProblem(name, what);
  if (problem) throw configError(problem, { code: "config.sql_identifier", context: { identifier: name } });
  return `\`${name}\``;
}

/** `` `database`.`table` `` or `` `table` ``, validated. */
export function quoteMysqlTableName(name: string, what = "table"): string {
  const parsed = parseTableName(name, what);
  return parsed.schema === undefined ? `\`${parsed.table}\`` : `\`${parsed.schema}\`.\`${parsed.table}\``;
}
