import { Cron } from "croner";
import { NAME_PATTERN, NAME_RULE } from "../schema/engine.js";
import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";
import { checkResilience } from "./resilience-checks.js";
import { checkReplaceTarget } from "./target-mode-checks.js";

type Path = Array<string | number>;

/** Rules across fields the structural schema cannot express: contradictions, cron, names, URLs. */
export function checkEngineRules(root: Record<string, unknown>): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  issues.push(...checkState(root.state));
  if (isPlainMap(root.admin) && typeof root.admin.listen === "string") issues.push(...checkListen(root.admin.listen));

  const connections = isPlainMap(root.connections) ? root.connections : {};
  for (const [name, block] of Object.entries(connections)) {
    issues.push(...checkName("connection", ["connections", name], name));
    if (isPlainMap(block) && isPlainMap(block.resilience)) issues.push(...checkResilience(["connections", name, "resilience"], block.resilience));
  }
  const integrations = isPlainMap(root.integrations) ? root.integrations : {};
  for (const [name, integration] of Object.entries(integrations)) {
    issues.push(...checkName("integration", ["integrations", name], name));
    if (!isPlainMap(integration)) continue;
    if (isPlainMap(integration.sync)) issues.push(...checkSync(["integrations", name, "sync"], integration.sync));
    issues.push(...checkReplaceTarget(["integrations", name], integration));
    if (isPlainMap(integration.resilience)) {
      const target = isPlainMap(integration.target) && typeof integration.target.connection === "string" ? connections[integration.target.connection] : undefined;
      const inherited = isPlainMap(target) && isPlainMap(target.resilience) ? target.resilience : {};
      issues.push(...checkResilience(["integrations", name, "resilience"], integration.resilience, inherited));
    }
  }
  return issues;
}

function checkName(what: string, path: Path, name: string): LocatedIssue[] {
  if (NAME_PATTERN.test(name)) return [];
  return [{ path, at: "key", message: `invalid ${what} name "${name}": use ${NAME_RULE}` }];
}

function checkState(state: unknown): LocatedIssue[] {
  if (typeof state !== "string") return [];
  if (/^sqlite:./.test(state) || /^postgres(ql)?:\/\/./.test(state)) return [];
  return [{ path: ["state"], message: `unsupported state store "${state}": use "sqlite:<path>" (relative to this file) or "postgres://user@host:5432/db"` }];
}

function checkListen(listen: string): LocatedIssue[] {
  const match = /^(.*):(\d{1,5})$/.exec(listen);
  if (match && match[1] !== "" && Number(match[2]) <= 65535) return [];
  return [{ path: ["admin", "listen"], message: `expected "host:port" such as "127.0.0.1:9464" (or false to disable), got ${JSON.stringify(listen)}` }];
}

function checkSync(path: Path, sync: Record<string, unknown>): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const trigger = typeof sync.trigger === "string" ? sync.trigger : "once";
  const hasSchedule = sync.schedule !== undefined;
  if (trigger === "schedule" && !hasSchedule) {
    issues.push({ path: [...path, "trigger"], message: 'trigger "schedule" needs a "schedule": add a cron expression such as schedule: "*/5 * * * *"' });
  }
  if (trigger !== "schedule" && hasSchedule) {
    const written = sync.trigger === undefined ? `the default trigger is "once"` : `trigger is "${trigger}"`;
    issues.push({ path: [...path, "schedule"], message: `"schedule" is only used with trigger: schedule, but ${written}: set trigger: schedule or remove schedule` });
  }
  if (trigger !== "schedule" && sync.timezone !== undefined) {
    issues.push({ path: [...path, "timezone"], message: '"timezone" is only used with trigger: schedule: set trigger: schedule or remove timezone' });
  }
  let timezoneValid = true;
  if (typeof sync.timezone === "string") {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: sync.timezone });
    } catch {
      timezoneValid = false;
      issues.push({ path: [...path, "timezone"], message: `unknown time zone ${JSON.stringify(sync.timezone)}: use an IANA name such as "Europe/Paris" or "UTC"` });
    }
  }
  if (typeof sync.schedule === "string") {
    const problem = cronProblem(sync.schedule, timezoneValid && typeof sync.timezone === "string" ? sync.timezone : undefined);
    if (problem) issues.push({ path: [...path, "schedule"], message: problem });
  }
  return issues;
}

function cronProblem(pattern: string, timezone: string | undefined): string | undefined {
  try {
    const cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
    cron.stop();
    return undefined;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^Cron\w*:\s*/, "").replace(/\.$/, "");
    return `invalid cron expression ${JSON.stringify(pattern)}: ${reason} (e.g. "*/5 * * * *" = every 5 minutes)`;
  }
}
