import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";

type Path = Array<string | number>;

/**
 * A `mode: replace` target (the SQL connectors) rebuilds its table from what one run read
 * and swaps it in when the run ends by itself. So the run must end (not a continuous
 * trigger) and must read everything (not an incremental source, which would leave only the
 * rows changed since the last run).
 */
export function checkReplaceTarget(targetPath: Path, target: unknown, integration: Record<string, unknown>): LocatedIssue[] {
  if (!isPlainMap(target) || target.mode !== "replace") return [];
  const issues: LocatedIssue[] = [];
  if (isPlainMap(integration.sync) && integration.sync.trigger === "continuous") {
    issues.push({
      path: [...targetPath, "mode"],
      message: 'mode replace swaps in the new table when a run ends, but trigger "continuous" never ends a run: use trigger once or schedule, or target mode upsert or merge',
    });
  }
  const source = integration.source;
  if (isPlainMap(source) && (source.mode === "incremental" || (source.mode === undefined && source.cursor !== undefined))) {
    issues.push({
      path: [...targetPath, "mode"],
      message: "mode replace rebuilds the table from what one run reads, but the source reads incrementally (cursor): the table would keep only the rows changed since the last run; read the whole table (source mode: full_refresh, no cursor) or use target mode upsert or merge",
    });
  }
  return issues;
}
