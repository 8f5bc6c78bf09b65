import type { AnyConnectorSpec } from "../../connectors/types.js";
import type { AnyTransformSpec } from "../../transform/types.js";
import type { ConfigIssue } from "../issues.js";
import type { WebhookConfigChecks } from "../loader.js";
import { webhookSourceSchema } from "../schema/webhooks-inbound.js";
import { outboundWebhookTargetSchema } from "../schema/webhooks-outbound.js";
import { closestMatch, didYouMean } from "../did-you-mean.js";
import { sinkOptions, writtenTargets } from "../integration-targets.js";
import { restoreInterpolatedTypes } from "../interpolated-types.js";
import type { SecretFields } from "../secrets.js";
import { CONNECTION_ENGINE_KEYS } from "../schema/engine.js";
import type { LocatedIssue } from "./located-issue.js";
import { prefixIssues } from "./located-issue.js";
import { validateAgainst } from "./schema-validator.js";
import { isPlainMap } from "./plain-map.js";

export interface ComponentIndex {
  connectors: ReadonlyMap<string, AnyConnectorSpec>;
  transforms: ReadonlyMap<string, AnyTransformSpec>;
  webhooks?: WebhookConfigChecks;
}

export interface ComponentValidationContext {
  components: ComponentIndex;
  whollyInterpolated: ReadonlySet<string>;
  secrets: SecretFields;
}

type Path = Array<string | number>;

/**
 * Phase 2: each connection block against its connector's schema, each endpoint against the
 * referenced connection's source/sink schema, each transform step against its spec, then
 * the components' own checks. Mutates `root` only to restore types of interpolated values.
 */
export function validateComponents(root: Record<string, unknown>, ctx: ComponentValidationContext): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const connections = isPlainMap(root.connections) ? root.connections : {};
  for (const [name, block] of Object.entries(connections)) {
    issues.push(...validateConnection(name, block, ctx));
  }
  issues.push(...validateWebhookEntries(root, ctx));
  const integrations = isPlainMap(root.integrations) ? root.integrations : {};
  for (const [name, integration] of Object.entries(integrations)) {
    if (!isPlainMap(integration)) continue;
    issues.push(...validateEndpoint(["integrations", name, "source"], integration.source, "source", ["connection"], connections, ctx));
    for (const target of writtenTargets(["integrations", name], integration)) {
      issues.push(...validateEndpoint(target.path, target.endpoint, "target", target.engineKeys, connections, ctx));
    }
    if (Array.isArray(integration.transform)) {
      integration.transform.forEach((step, index) => {
        issues.push(...validateStep(["integrations", name, "transform", index], step, ctx));
        if (isPlainMap(step) && isPlainMap(step.call)) issues.push(...validateCallStep(["integrations", name, "transform", index, "call"], step.call, connections, ctx));
      });
    }
  }
  return issues;
}

function validateConnection(name: string, block: unknown, ctx: ComponentValidationContext): LocatedIssue[] {
  if (!isPlainMap(block) || typeof block.type !== "string") return [];
  const path: Path = ["connections", name];
  const spec = ctx.components.connectors.get(block.type);
  if (!spec) {
    const known = [...ctx.components.connectors.keys()];
    return [{ path: [...path, "type"], message: `unknown connector type "${block.type}"${didYouMean(block.type, known)}; available types: ${known.join(", ")}` }];
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(block)) {
    if (!(CONNECTION_ENGINE_KEYS as readonly string[]).includes(key)) options[key] = value;
  }
  const issues = checkValue(spec.config, { value: options }, path, ctx, spec.check?.config?.bind(spec.check));
  // Write back values whose types were restored, so normalisation sees them.
  for (const key of Object.keys(options)) block[key] = options[key];
  return issues;
}

/** `engineKeys`: the keys of the endpoint that are not the connector's options (`connection`, and `name`/`when` in `targets:`). */
function validateEndpoint(
  path: Path,
  endpoint: unknown,
  role: "source" | "target",
  engineKeys: readonly string[],
  connections: Record<string, unknown>,
  ctx: ComponentValidationContext,
): LocatedIssue[] {
  if (isPlainMap(endpoint) && typeof endpoint.webhook === "string" && endpoint.connection === undefined) return validateWebhookEndpoint(path, endpoint, role, engineKeys, ctx);
  if (!isPlainMap(endpoint) || typeof endpoint.connection !== "string") return [];
  const reference = endpoint.connection;
  const connection = Object.hasOwn(connections, reference) ? connections[reference] : undefined;
  if (connection === undefined) {
    const defined = Object.keys(connections);
    const hint = defined.length === 0 ? '; no connections are defined: add one under "connections"' : `${didYouMean(reference, defined)}; defined connections: ${defined.join(", ")}`;
    return [{ path: [...path, "connection"], message: `unknown connection "${reference}"${hint}` }];
  }
  if (!isPlainMap(connection) || typeof connection.type !== "string") return [];
  const spec = ctx.components.connectors.get(connection.type);
  if (!spec) return [];
  const schema = role === "source" ? spec.source : spec.sink;
  if (!schema) {
    const able = [...ctx.components.connectors.values()].filter((s) => (role === "source" ? s.source : s.sink) !== undefined).map((s) => s.type);
    const noun = role === "source" ? "source" : "target";
    return [
      {
        path: [...path, "connection"],
        message: `connection "${reference}" is of type "${connection.type}", which cannot be a ${noun}; connector types that can be ${noun}s: ${able.join(", ")}`,
      },
    ];
  }
  const options = sinkOptions(endpoint, engineKeys);
  const check = role === "source" ? spec.check?.source?.bind(spec.check) : spec.check?.sink?.bind(spec.check);
  const issues = checkValue(schema, { value: options }, path, ctx, check);
  for (const key of Object.keys(options)) endpoint[key] = options[key];
  return engineKeys.length > 1 ? issues.map((issue) => suggestEngineKey(issue, path, engineKeys)) : issues;
}

/** The options of a `source: { webhook }` or `target: { webhook }` (the reference itself is checked with the engine rules). */
function validateWebhookEndpoint(path: Path, endpoint: Record<string, unknown>, role: "source" | "target", engineKeys: readonly string[], ctx: ComponentValidationContext): LocatedIssue[] {
  const keys = [...engineKeys.filter((key) => key !== "connection"), "webhook"];
  const options = sinkOptions(endpoint, keys);
  const schema = role === "source" ? webhookSourceSchema : outboundWebhookTargetSchema;
  const check = role === "target" ? ctx.components.webhooks?.outboundTarget : undefined;
  const issues = checkValue(schema, { value: options }, path, ctx, check as ((value: never) => ConfigIssue[]) | undefined);
  for (const key of Object.keys(options)) endpoint[key] = options[key];
  return issues;
}

/** The runtimes' own checks of each `webhooks.inbound` / `webhooks.outbound` entry (their structure was checked with the top-level schema). */
function validateWebhookEntries(root: Record<string, unknown>, ctx: ComponentValidationContext): LocatedIssue[] {
  const checks = ctx.components.webhooks;
  if (checks === undefined || !isPlainMap(root.webhooks)) return [];
  const issues: LocatedIssue[] = [];
  for (const direction of ["inbound", "outbound"] as const) {
    const entries = root.webhooks[direction];
    if (!isPlainMap(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      if (!isPlainMap(entry)) continue;
      issues.push(...prefixIssues(["webhooks", direction, name], checks[direction](entry)));
    }
  }
  return issues;
}

/** A `call` step's options: those of a target of the connection it names, whose connector must be callable. */
function validateCallStep(path: Path, call: Record<string, unknown>, connections: Record<string, unknown>, ctx: ComponentValidationContext): LocatedIssue[] {
  if (typeof call.connection !== "string") return [];
  const connection = Object.hasOwn(connections, call.connection) ? connections[call.connection] : undefined;
  if (connection === undefined) {
    const defined = Object.keys(connections);
    return [{ path: [...path, "connection"], message: `unknown connection "${call.connection}"${didYouMean(call.connection, defined)}${defined.length > 0 ? `; defined connections: ${defined.join(", ")}` : ""}` }];
  }
  if (!isPlainMap(connection) || typeof connection.type !== "string") return [];
  const spec = ctx.components.connectors.get(connection.type);
  if (!spec) return [];
  if (spec.callable !== true || spec.sink === undefined) {
    const able = [...ctx.components.connectors.values()].filter((s) => s.callable === true).map((s) => s.type);
    return [{ path: [...path, "connection"], message: `connection "${call.connection}" is of type "${connection.type}", which cannot be called; connector types that can: ${able.join(", ")}` }];
  }
  const options = sinkOptions(call, ["connection"]);
  const issues = checkValue(spec.sink, { value: options }, path, ctx, spec.check?.sink?.bind(spec.check));
  for (const key of Object.keys(options)) call[key] = options[key];
  return issues;
}

/** An unknown key of a `targets:` item that is a misspelt `name` or `when` rather than a sink option. */
function suggestEngineKey(issue: LocatedIssue, path: Path, engineKeys: readonly string[]): LocatedIssue {
  const key = issue.path[path.length];
  if (issue.path.length !== path.length + 1 || typeof key !== "string" || !issue.message.startsWith(`unknown key "${key}"`) || issue.message.includes("did you mean")) return issue;
  const match = closestMatch(key, engineKeys);
  return match === undefined ? issue : { ...issue, message: `unknown key "${key}" (did you mean "${match}"?)` };
}

function validateStep(path: Path, step: unknown, ctx: ComponentValidationContext): LocatedIssue[] {
  if (!isPlainMap(step)) return [];
  const keys = Object.keys(step);
  const known = [...ctx.components.transforms.keys()];
  if (keys.length !== 1) {
    const found = keys.length === 0 ? "it is empty" : `found ${keys.map((k) => `"${k}"`).join(", ")}`;
    return [{ path, message: `a transform step is a map with exactly one key, the transform's name (one of: ${known.join(", ")}); ${found}. Put each transform in its own list item` }];
  }
  const name = keys[0] as string;
  const spec = ctx.components.transforms.get(name);
  if (!spec) {
    return [{ path: [...path, name], at: "key", message: `unknown transform "${name}"${didYouMean(name, known)}; available transforms: ${known.join(", ")}` }];
  }
  const holder = { value: step[name] };
  const issues = checkValue(spec.schema, holder, [...path, name], ctx, spec.check?.bind(spec));
  step[name] = holder.value;
  return issues;
}

/** Restores interpolated types, validates, registers secrets and, when valid, runs the component's check. */
function checkValue(schema: unknown, holder: { value: unknown }, path: Path, ctx: ComponentValidationContext, check: ((value: never) => ConfigIssue[]) | undefined): LocatedIssue[] {
  holder.value = restoreInterpolatedTypes(schema, holder.value, path, ctx.whollyInterpolated);
  ctx.secrets.collect(schema, holder.value, path);
  const issues = validateAgainst(schema as Record<string, unknown>, holder.value);
  if (issues.length > 0 || !check) return prefixIssues(path, issues);
  try {
    return prefixIssues(path, check(holder.value as never));
  } catch (error) {
    return [{ path, message: `could not be checked: ${error instanceof Error ? error.message : String(error)}` }];
  }
}
