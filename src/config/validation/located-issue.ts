import type { ConfigIssue } from "../issues.js";

/** An issue with where to point: the value (default) or the key it is written under. */
export interface LocatedIssue extends ConfigIssue {
  at?: "value" | "key";
}

export function prefixIssues(prefix: ReadonlyArray<string | number>, issues: readonly LocatedIssue[]): LocatedIssue[] {
  return issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }));
}
