import { Cron } from "croner";
import { NAME_PATTERN, NAME_RULE } from "../schema/engine.js";
import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";
import { checkResilience } from "./resilience-checks.js";
import { checkReplaceTarget } from "./target-mode-checks.js";
import { checkTargets } from "./target-checks.js";
import { checkWebhookRules } from "./webhook-checks.js";
import { writtenTargets } from "../integration-targets.js";
import type { WrittenTarget } from "../integration-targets.js";

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
    const path = ["integrations", name];
    issues.push(...checkTargets(path, integration));
    const targets = writtenTargets(path, integration);
    for (const target of targets) issues.push(...checkReplaceTarget(target.path, target.endpoint, integration));
    if (isPlainMap(integration.resilience)) issues.push(...checkIntegrationResilience([...path, "resilience"], integration.resilience, targets, connections));
  }
  issues.push(...checkWebhookRules(root));
  return issues;
}

/** Judged over each target connection's `resilience:` the block overrides (once per problem when several give the same). */
function checkIntegrationResilience(path: Path, resilience: Record<string, unknown>, targets: WrittenTarget[], connections: Record<string, unknown>): LocatedIssue[] {
  const inheritedBlocks = new Set<Record<string, unknown>>();
  for (const target of targets) {
    const connection = isPlainMap(target.endpoint) && typeof target.endpoint.connection === "string" ? connections[target.endpoint.connection] : undefined;
    inheritedBlocks.add(isPlainMap(connection) && isPlainMap(connection.resilience) ? connection.resilience : {});
  }
  if (inheritedBlocks.size === 0) inheritedBlocks.add({});
  const seen = new Set<string>();
  const issues: LocatedIssue[] = [];
  for (const inherited of inheritedBlocks) {
    for (const issue of checkResilience(path, resilience, inherited)) {
      const id = `${issue.path.join("\u0000")}\u0000${issue.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push(issue);
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
