import { basename, isAbsolute, resolve } from "node:path";
import { parseDuration } from "../core/duration.js";
import { parseSize } from "../core/size.js";
import type {
  AdminConfig,
  ConnectionConfig,
  EndpointConfig,
  IntegrationConfig,
  JunctionConfig,
  LogConfig,
  MonitoringConfig,
  RoutingKind,
  StepConfig,
  TargetConfig,
  TriggerConfig,
  WebhooksConfig,
} from "./model.js";
import { normaliseInboundWebhook, type InboundRoute } from "./webhooks-inbound.js";
import { normaliseOutboundWebhook } from "./webhooks-outbound.js";
import { DEFAULTS } from "./model.js";
import { sinkOptions, targetNames, writtenRouting, writtenTargets } from "./integration-targets.js";
import { normaliseResilience } from "./normalise-resilience.js";
import { CONNECTION_ENGINE_KEYS } from "./schema/engine.js";
import { isPlainMap } from "./validation/plain-map.js";

type Raw = Record<string, unknown>;

function map(value: unknown): Raw {
  return isPlainMap(value) ? value : {};
}

function ms(value: unknown, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

/**
 * The validated file (snake_case, durations and sizes as written) as the runtime model
 * (camelCase, milliseconds, bytes, defaults filled in). Only called on a valid tree.
 */
export function normaliseConfig(root: Raw, file: string, baseDir: string): JunctionConfig {
  const rawConnections = map(root.connections);
  const connections: Record<string, ConnectionConfig> = {};
  for (const [name, block] of Object.entries(rawConnections)) connections[name] = normaliseConnection(name, map(block));

  const integrations: Record<string, IntegrationConfig> = {};
  for (const [name, integration] of Object.entries(map(root.integrations))) {
    integrations[name] = normaliseIntegration(name, map(integration), rawConnections);
  }

  const config: JunctionConfig = {
    version: 1,
    name: typeof root.name === "string" ? root.name : basename(baseDir),
    file,
    baseDir,
    state: resolveStateUrl(typeof root.state === "string" ? root.state : DEFAULTS.state, baseDir),
    admin: normaliseAdmin(root.admin),
    log: normaliseLog(map(root.log)),
    shutdownTimeoutMs: ms(root.shutdown_timeout, DEFAULTS.shutdownTimeoutMs),
    connections,
    integrations,
    webhooks: normaliseWebhooks(map(root.webhooks), integrations),
  };
  for (const reserved of ["workflows", "gateway"] as const) {
    if (root[reserved] !== undefined) config[reserved] = root[reserved];
  }
  return config;
}

/** Relative sqlite paths resolve against the config directory; other URLs are kept as written. */
export function resolveStateUrl(url: string, baseDir: string): string {
  if (!url.startsWith("sqlite:")) return url;
  let path = url.slice("sqlite:".length);
  if (path === ":memory:") return url;
  if (path.startsWith("//")) path = path.slice(2);
  return `sqlite:${isAbsolute(path) ? path : resolve(baseDir, path)}`;
}

function normaliseAdmin(admin: unknown): AdminConfig {
  if (admin === false) return { listen: null };
  const listen = map(admin).listen;
  if (listen === false) return { listen: null };
  return { listen: typeof listen === "string" ? listen : DEFAULTS.adminListen };
}

function normaliseLog(log: Raw): LogConfig {
  return {
    level: (typeof log.level === "string" ? log.level : "info") as LogConfig["level"],
    format: (typeof log.format === "string" ? log.format : "auto") as LogConfig["format"],
  };
}

function normaliseConnection(name: string, block: Raw): ConnectionConfig {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(block)) {
    if (!(CONNECTION_ENGINE_KEYS as readonly string[]).includes(key)) options[key] = value;
  }
  const connection: ConnectionConfig = { name, type: String(block.type), options, required: block.required !== false };
  if (isPlainMap(block.resilience)) connection.resilience = normaliseResilience([block.resilience]);
  return connection;
}

function normaliseEndpoint(endpoint: Raw, direction: "inbound" | "outbound"): EndpointConfig {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(endpoint)) if (key !== "connection" && key !== "webhook") options[key] = value;
  if (typeof endpoint.webhook === "string") return { connection: webhookConnectionName(direction, endpoint.webhook), webhook: endpoint.webhook, options };
  return { connection: String(endpoint.connection), options };
}

/** The name a `webhook:` endpoint's connection goes by (in health, logs); it cannot clash with a connection name. */
export function webhookConnectionName(direction: "inbound" | "outbound", name: string): string {
  return `webhooks.${direction}.${name}`;
}

function normaliseWebhooks(raw: Raw, integrations: Record<string, IntegrationConfig>): WebhooksConfig {
  const inbound: WebhooksConfig["inbound"] = {};
  for (const [name, entry] of Object.entries(map(raw.inbound))) {
    const routes: InboundRoute[] = Object.values(integrations)
      .filter((integration) => integration.source.webhook === name)
      .map((integration) => ({ integration: integration.name, events: Array.isArray(integration.source.options.events) ? integration.source.options.events.map(String) : [] }));
    inbound[name] = normaliseInboundWebhook(name, map(entry), routes);
  }
  const outbound: WebhooksConfig["outbound"] = {};
  for (const [name, entry] of Object.entries(map(raw.outbound))) outbound[name] = normaliseOutboundWebhook(name, map(entry));
  const config: WebhooksConfig = { inbound, outbound, deliveryRetentionMs: ms(raw.delivery_retention, DEFAULTS.deliveryRetentionMs) };
  if (typeof raw.listen === "string") config.listen = raw.listen;
  return config;
}

function normaliseTrigger(sync: Raw): TriggerConfig {
  if (sync.trigger === "continuous") return { kind: "continuous" };
  if (sync.trigger === "schedule") {
    const trigger: TriggerConfig = { kind: "schedule", cron: String(sync.schedule) };
    if (typeof sync.timezone === "string") trigger.timezone = sync.timezone;
    return trigger;
  }
  return { kind: "once" };
}

function normaliseMonitoring(monitoring: Raw): MonitoringConfig {
  const alerts = map(monitoring.alerts);
  const out: MonitoringConfig = { alerts: { windowMs: ms(alerts.window, DEFAULTS.alertWindowMs) } };
  if (typeof alerts.error_rate_threshold === "number") out.alerts.errorRateThreshold = alerts.error_rate_threshold;
  if (alerts.latency_threshold !== undefined) out.alerts.latencyThresholdMs = ms(alerts.latency_threshold, 0);
  return out;
}

/** The integration's targets, each with its resilience: the integration's block over the target connection's. */
function normaliseTargets(name: string, raw: Raw, routing: RoutingKind, connections: Raw): TargetConfig[] {
  const written = writtenTargets(["integrations", name], raw);
  const names = targetNames(routing, written);
  return written.map((target, index) => {
    const endpoint = map(target.endpoint);
    const webhook = typeof endpoint.webhook === "string" ? endpoint.webhook : undefined;
    const connection = webhook === undefined ? String(endpoint.connection) : webhookConnectionName("outbound", webhook);
    const out: TargetConfig = {
      name: names[index] as string,
      connection,
      options: sinkOptions(endpoint, [...target.engineKeys, "webhook"]),
      resilience: normaliseResilience([webhook === undefined ? map(map(connections[connection]).resilience) : {}, map(raw.resilience)]),
    };
    if (webhook !== undefined) out.webhook = webhook;
    if (typeof target.when === "string") out.when = target.when;
    return out;
  });
}

function normaliseIntegration(name: string, raw: Raw, connections: Raw): IntegrationConfig {
  const sync = map(raw.sync);
  const routing = writtenRouting(raw) ?? "single";
  const targets = normaliseTargets(name, raw, routing, connections);
  const transforms: StepConfig[] = (Array.isArray(raw.transform) ? raw.transform : []).map((step) => {
    const [type, value] = Object.entries(map(step))[0] ?? ["", undefined];
    return { type, value };
  });
  const integration: IntegrationConfig = {
    name,
    source: normaliseEndpoint(map(raw.source), "inbound"),
    transforms,
    targets,
    routing,
    trigger: normaliseTrigger(sync),
    batching: {
      count: typeof sync.batch_size === "number" ? sync.batch_size : DEFAULTS.batching.count,
      bytes: sync.batch_bytes === undefined ? DEFAULTS.batching.bytes : (parseSize(sync.batch_bytes) ?? DEFAULTS.batching.bytes),
      periodMs: ms(sync.batch_period, DEFAULTS.batching.periodMs),
    },
    concurrency: typeof sync.concurrency === "number" ? sync.concurrency : DEFAULTS.concurrency,
    resilience: routing === "single" && targets[0] !== undefined ? targets[0].resilience : normaliseResilience([map(raw.resilience)]),
    onError: raw.on_error === "fail" ? "fail" : "dead_letter",
    monitoring: normaliseMonitoring(map(raw.monitoring)),
  };
  if (typeof raw.description === "string") integration.description = raw.description;
  return integration;
}
