import jsonata from "jsonata";
import { TARGET_KEYS, targetNames, writtenRouting, writtenTargets } from "../integration-targets.js";
import type { WrittenTarget } from "../integration-targets.js";
import { NAME_PATTERN, NAME_RULE } from "../schema/engine.js";
import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";

type Path = Array<string | number>;

/**
 * The rules of `target` / `targets` / `switch` the structural schema cannot express:
 * exactly one of the three, unique and well-formed target names, the default case of a
 * switch last, and `when` conditions that parse.
 */
export function checkTargets(path: Path, integration: Record<string, unknown>): LocatedIssue[] {
  const present = TARGET_KEYS.filter((key) => integration[key] !== undefined);
  if (present.length === 0) {
    return [{ path, at: "key", message: 'missing required key "target": write to one target (target:), to several (targets:), or to the first matching case (switch:)' }];
  }
  if (present.length > 1) {
    const [first, second] = present as [string, string];
    return [{ path: [...path, second], at: "key", message: `"${second}" and "${first}" are alternatives: keep exactly one of target, targets or switch` }];
  }
  const routing = writtenRouting(integration);
  const targets = writtenTargets(path, integration);
  if (routing === undefined || routing === "single") return [];
  return [...checkNames(routing, targets), ...checkConditions(targets), ...(routing === "switch" ? checkDefaultCase(targets, integration.switch as unknown[]) : [])];
}

function checkNames(routing: "fan_out" | "switch", targets: WrittenTarget[]): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const target of targets) {
    if (typeof target.name === "string" && !NAME_PATTERN.test(target.name)) {
      issues.push({ path: [...target.holderPath, "name"], message: `invalid target name "${target.name}": use ${NAME_RULE}` });
    }
  }
  const names = targetNames(routing, targets);
  const firstIndex = new Map<string, number>();
  names.forEach((name, index) => {
    const earlier = firstIndex.get(name);
    if (earlier === undefined) {
      firstIndex.set(name, index);
      return;
    }
    const target = targets[index] as WrittenTarget;
    const named = typeof target.name === "string";
    const what = routing === "switch" ? "cases" : "targets";
    issues.push({
      path: named ? [...target.holderPath, "name"] : [...target.path, "connection"],
      message: named
        ? `duplicate target name "${name}" (${what} ${earlier} and ${index}): each target needs its own name, it labels metrics, logs and dead letters`
        : `duplicate target name "${name}" (${what} ${earlier} and ${index}): a target is named after its connection unless it has a name; add a distinct name: to one of them`,
    });
  });
  return issues;
}

function checkConditions(targets: WrittenTarget[]): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const target of targets) {
    if (typeof target.when !== "string") continue;
    const problem = jsonataSyntaxProblem(target.when);
    if (problem !== undefined) issues.push({ path: [...target.holderPath, "when"], message: problem });
  }
  return issues;
}

/** A case with neither `when` nor an unknown key (a misspelt `when` is reported as such, not as a misplaced default). */
function isDefaultCase(holder: unknown, target: WrittenTarget): boolean {
  return target.when === undefined && isPlainMap(holder) && Object.keys(holder).every((key) => key === "name" || key === "target");
}

function checkDefaultCase(cases: WrittenTarget[], written: unknown[]): LocatedIssue[] {
  const index = cases.findIndex((target, i) => isDefaultCase(written[i], target));
  if (index === -1 || index === cases.length - 1) return [];
  const later = cases.length - 1 - index;
  return [
    {
      path: (cases[index] as WrittenTarget).holderPath,
      message: `a case without "when" is the default and must be the last case: the ${later === 1 ? "case" : `${later} cases`} after it could never match; add a when: or move this case to the end`,
    },
  ];
}

/** `invalid JSONata at position N: message` when the condition does not parse. */
function jsonataSyntaxProblem(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (error) {
    const { message, position } = (error ?? {}) as { message?: unknown; position?: unknown };
    const text = typeof message === "string" && message.length > 0 ? message : String(error);
    return typeof position === "number" ? `invalid JSONata at position ${position}: ${text}` : `invalid JSONata: ${text}`;
  }
}
