import { stringify } from "yaml";
import { REDACTED } from "../core/redact.js";
import type { LoadedConfig } from "./loader.js";
import { durationText, sizeText } from "./unit-text.js";
import type { CircuitBreakerConfig, ConnectionConfig, IntegrationConfig, JunctionConfig, ResilienceConfig, TargetConfig } from "./model.js";

/**
 * The effective config (interpolated, defaults filled in) as junction.yaml text, with fields
 * marked secret shown as "[redacted]" and every interpolated value redacted.
 */
export function renderResolvedConfig(loaded: LoadedConfig): string {
  const tree = toFileShape(loaded.config);
  for (const path of loaded.secretPaths) blank(tree, path);
  // Values are redacted first so strings stay well quoted; the text pass catches secrets that were not strings (ports, numbers).
  const body = loaded.redactor.redact(stringify(escapeInterpolation(loaded.redactor.redactValue(tree)), { lineWidth: 0 }));
  return `# Resolved from ${loaded.config.file}: variables interpolated, defaults filled in, secrets redacted.\n${body}`;
}

/** Resolved strings are final: a literal "${" is written "$${" so that loading the output gives them back unchanged. */
function escapeInterpolation(value: unknown): unknown {
  // A replacer function, because "$$" in a replacement string means one "$".
  if (typeof value === "string") return value.replaceAll("${", () => "$${");
  if (Array.isArray(value)) return value.map(escapeInterpolation);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)]));
  return value;
}

function blank(tree: Record<string, unknown>, path: ReadonlyArray<string | number>): void {
  let node: unknown = tree;
  for (let i = 0; i < path.length - 1; i += 1) {
    if (node === null || typeof node !== "object") return;
    node = (node as Record<string | number, unknown>)[path[i] as string | number];
  }
  const last = path[path.length - 1];
  if (last === undefined || node === null || typeof node !== "object") return;
  const holder = node as Record<string | number, unknown>;
  if (holder[last] !== undefined) holder[last] = REDACTED;
}

function toFileShape(config: JunctionConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    version: config.version,
    name: config.name,
    state: config.state,
    admin: config.admin.listen === null ? false : { listen: config.admin.listen },
    log: { level: config.log.level, format: config.log.format },
    shutdown_timeout: durationText(config.shutdownTimeoutMs),
    connections: Object.fromEntries(Object.entries(config.connections).map(([name, c]) => [name, connectionShape(c)])),
    integrations: Object.fromEntries(Object.entries(config.integrations).map(([name, i]) => [name, integrationShape(i)])),
  };
  const webhooks = webhooksShape(config);
  if (webhooks !== undefined) out.webhooks = webhooks;
  for (const reserved of ["workflows", "gateway"] as const) {
    if (config[reserved] !== undefined) out[reserved] = structuredClone(config[reserved]);
  }
  return out;
}

function connectionShape(connection: ConnectionConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { type: connection.type, required: connection.required };
  if (connection.resilience) out.resilience = resilienceShape(connection.resilience);
  return { ...out, ...structuredClone(connection.options) };
}

function resilienceShape(resilience: ResilienceConfig): Record<string, unknown> {
  const { retry } = resilience;
  const timeout = durationText(resilience.timeoutMs);
  const out: Record<string, unknown> = {
    retry: { attempts: retry.attempts, backoff: retry.backoff, base_delay: durationText(retry.baseDelayMs), max_delay: durationText(retry.maxDelayMs), jitter: retry.jitter },
    timeout: resilience.timeoutStrategy === "aggressive" ? { duration: timeout, strategy: "aggressive" } : timeout,
  };
  if (resilience.circuitBreaker) out.circuit_breaker = breakerShape(resilience.circuitBreaker);
  if (resilience.rateLimit) {
    const { algorithm, limit, perMs, burst, wait, redisUrl } = resilience.rateLimit;
    out.rate_limit = { limit, per: durationText(perMs), ...(algorithm === "token_bucket" ? { burst } : {}), algorithm, wait, ...(redisUrl !== undefined ? { redis: redisUrl } : {}) };
  }
  if (resilience.bulkhead) {
    const { maxConcurrent, maxQueue, queueTimeoutMs } = resilience.bulkhead;
    out.bulkhead = { max_concurrent: maxConcurrent, max_queue: maxQueue, ...(queueTimeoutMs !== undefined ? { queue_timeout: durationText(queueTimeoutMs) } : {}) };
  }
  if (resilience.cache) {
    const { ttlMs, maxEntries, redisUrl } = resilience.cache;
    out.cache = { ttl: durationText(ttlMs), max_entries: maxEntries, ...(redisUrl !== undefined ? { redis: redisUrl } : {}) };
  }
  return out;
}

function breakerShape(breaker: CircuitBreakerConfig): Record<string, unknown> {
  const { window } = breaker;
  const out: Record<string, unknown> = {};
  if (window.kind === "consecutive") {
    out.failure_threshold = window.failureThreshold;
  } else {
    out.failure_rate = window.failureRateThreshold;
    out.window = window.kind === "count" ? window.size : durationText(window.windowMs);
    out.minimum_calls = window.minimumCalls;
    if (window.slowCallRateThreshold !== undefined) out.slow_call_rate = window.slowCallRateThreshold;
    if (window.slowCallDurationMs !== undefined) out.slow_call_duration = durationText(window.slowCallDurationMs);
  }
  return { ...out, reset_timeout: durationText(breaker.openDurationMs), half_open_probes: breaker.halfOpenMaxProbes, success_threshold: breaker.successThreshold };
}

function integrationShape(integration: IntegrationConfig): Record<string, unknown> {
  const sync: Record<string, unknown> = { trigger: integration.trigger.kind };
  if (integration.trigger.kind === "schedule") {
    sync.schedule = integration.trigger.cron;
    if (integration.trigger.timezone) sync.timezone = integration.trigger.timezone;
  }
  Object.assign(sync, {
    batch_size: integration.batching.count,
    batch_bytes: sizeText(integration.batching.bytes),
    batch_period: durationText(integration.batching.periodMs),
    concurrency: integration.concurrency,
  });
  const alerts: Record<string, unknown> = {};
  if (integration.monitoring.alerts.errorRateThreshold !== undefined) alerts.error_rate_threshold = integration.monitoring.alerts.errorRateThreshold;
  if (integration.monitoring.alerts.latencyThresholdMs !== undefined) alerts.latency_threshold = durationText(integration.monitoring.alerts.latencyThresholdMs);
  alerts.window = durationText(integration.monitoring.alerts.windowMs);
  const out: Record<string, unknown> = {};
  if (integration.description !== undefined) out.description = integration.description;
  Object.assign(out, {
    source: {
      ...(integration.source.webhook === undefined ? { connection: integration.source.connection } : { webhook: integration.source.webhook }),
      ...structuredClone(integration.source.options),
    },
    transform: integration.transforms.map((step) => ({ [step.type]: structuredClone(step.value) })),
    ...targetsShape(integration),
    sync,
    resilience: resilienceShape(integration.resilience),
    on_error: integration.onError,
    monitoring: { alerts },
  });
  return out;
}

/** `target:`, `targets:` or `switch:` as written, with every target's name resolved. */
function targetsShape(integration: IntegrationConfig): Record<string, unknown> {
  const endpoint = (target: TargetConfig): Record<string, unknown> => ({
    ...(target.webhook === undefined ? { connection: target.connection } : { webhook: target.webhook }),
    ...structuredClone(target.options),
  });
  const condition = (target: TargetConfig): Record<string, unknown> => (target.when === undefined ? {} : { when: target.when });
  switch (integration.routing) {
    case "single":
      return { target: integration.targets[0] ? endpoint(integration.targets[0]) : {} };
    case "fan_out":
      return { targets: integration.targets.map((target) => ({ name: target.name, ...condition(target), ...endpoint(target) })) };
    case "switch":
      return { switch: integration.targets.map((target) => ({ name: target.name, ...condition(target), target: endpoint(target) })) };
  }
}

/** The inbound endpoints with their defaults; outbound entries as the runtime reads them (secrets are redacted by value). */
function webhooksShape(config: JunctionConfig): Record<string, unknown> | undefined {
  const { listen, inbound, outbound } = config.webhooks;
  if (listen === undefined && Object.keys(inbound).length === 0 && Object.keys(outbound).length === 0) return undefined;
  const out: Record<string, unknown> = {};
  if (listen !== undefined) out.listen = listen;
  out.delivery_retention = durationText(config.webhooks.deliveryRetentionMs);
  if (Object.keys(inbound).length > 0) {
    out.inbound = Object.fromEntries(
      Object.values(inbound).map((entry) => {
        const { type, secrets, toleranceMs, ...scheme } = entry.verifier;
        const verifier: Record<string, unknown> = { type, secrets: [...secrets] };
        if (toleranceMs !== undefined) verifier.tolerance = durationText(toleranceMs);
        for (const [key, value] of Object.entries(scheme)) verifier[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
        const shape: Record<string, unknown> = { path: entry.path, verifier };
        if (entry.eventType !== undefined) shape.event_type = entry.eventType;
        if (entry.eventId !== undefined) shape.event_id = entry.eventId;
        shape.max_body = sizeText(entry.maxBodyBytes);
        shape.dedup_ttl = durationText(entry.dedupTtlMs);
        return [entry.name, shape];
      }),
    );
  }
  if (Object.keys(outbound).length > 0) {
    out.outbound = Object.fromEntries(
      Object.values(outbound).map((entry) => [
        entry.name,
        {
          event_type: entry.eventType,
          payload: entry.payload,
          schedule: entry.scheduleMs.map(durationText),
          disable_after: durationText(entry.disableAfterMs),
          timeout: durationText(entry.timeoutMs),
          allow_private: entry.allowPrivate,
          ...(entry.allow.length > 0 ? { allow: [...entry.allow] } : {}),
          concurrency: entry.concurrency,
          endpoints: Object.fromEntries(
            Object.values(entry.endpoints).map((endpoint) => [
              endpoint.name,
              {
                url: endpoint.url,
                ...(endpoint.events.length > 0 ? { events: [...endpoint.events] } : {}),
                secrets: [...endpoint.secrets],
                ...(endpoint.throttle ? { throttle: { limit: endpoint.throttle.limit, per: durationText(endpoint.throttle.perMs) } } : {}),
                concurrency: endpoint.concurrency,
                ...(Object.keys(endpoint.headers).length > 0 ? { headers: { ...endpoint.headers } } : {}),
              },
            ]),
          ),
        },
      ]),
    );
  }
  return out;
}
