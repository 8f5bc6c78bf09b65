import type { ConfigIssue } from "../../types.js";
import type { PostgresSourceOptions } from "../schema.js";
import { replicationNameProblem } from "./cdc-plan.js";

const CDC_ONLY = ["publication", "slot", "heartbeat_interval"] as const;
const NOT_WITH_CDC = ["query", "cursor", "lag", "where", "poll_interval", "soft_delete"] as const;

/** Source options that mode cdc needs or refuses, and the cdc options other modes do not use. */
export function cdcSourceIssues(options: PostgresSourceOptions, mode: string): ConfigIssue[] {
  if (mode !== "cdc") {
    return CDC_ONLY.filter((field) => options[field] !== undefined).map((field) => ({ path: [field], message: `${field} is only used by mode cdc` }));
  }
  const issues: ConfigIssue[] = [];
  if (options.table === undefined) issues.push({ path: [], message: "mode cdc needs table (the table whose changes are streamed)" });
  for (const field of NOT_WITH_CDC) {
    if (options[field] !== undefined) issues.push({ path: [field], message: `${field} is not used by mode cdc, which streams every change of table; remove it` });
  }
  for (const field of ["publication", "slot"] as const) {
    const name = options[field];
    const problem = name === undefined ? undefined : replicationNameProblem(name, field);
    if (problem !== undefined) issues.push({ path: [field], message: problem });
  }
  return issues;
}
