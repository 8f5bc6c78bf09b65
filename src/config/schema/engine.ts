import { Type } from "@sinclair/typebox";
import type { TSchema } from "@sinclair/typebox";
import { durationSchema, sizeSchema } from "./units.js";
import { webhooksSchema } from "./webhooks.js";

/** Names of connections and integrations: they end up in metric labels, state keys and URLs. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;
export const NAME_RULE = 'lowercase letters, digits, "_" and "-", starting with a letter';

function literals<T extends string>(values: readonly T[], options: { description?: string } = {}): TSchema {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

export const TRIGGERS = ["once", "continuous", "schedule"] as const;
export const BACKOFFS = ["constant", "linear", "exponential"] as const;
export const JITTERS = ["none", "full", "decorrelated"] as const;
export const ON_ERROR = ["dead_letter", "fail"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export const LOG_FORMATS = ["json", "pretty", "auto"] as const;

export const retrySchema = Type.Object(
  {
    attempts: Type.Optional(Type.Integer({ minimum: 1, description: "Total attempts including the first; 1 disables retries. Default 5." })),
    backoff: Type.Optional(literals(BACKOFFS, { description: "How the delay grows between attempts. Default exponential." })),
    base_delay: Type.Optional(durationSchema({ description: "Delay before the first retry. Default 200ms." })),
    max_delay: Type.Optional(durationSchema({ description: "Upper bound of any delay. Default 30s." })),
    jitter: Type.Optional(literals(JITTERS, { description: "Randomisation that keeps clients from retrying in lockstep. Default full." })),
  },
  { additionalProperties: false, description: "Retries of transient failures, with backoff." },
);

export const TIMEOUT_STRATEGIES = ["cooperative", "aggressive"] as const;
export const RATE_LIMIT_ALGORITHMS = ["token_bucket", "sliding_window"] as const;

const rateSchema = (description: string): TSchema => Type.Number({ exclusiveMinimum: 0, maximum: 1, description });
const redisUrlSchema = (what: string): TSchema =>
  Type.String({ minLength: 1, secret: true, description: `Redis URL ("redis://" or "rediss://") of a ${what} shared by several processes; absent = in-process. Redacted like a password.` });

export const timeoutSchema = Type.Union(
  [
    durationSchema(),
    Type.Object(
      {
        duration: durationSchema({ description: "Time limit of one sink write; 0 for none." }),
        strategy: Type.Optional(literals(TIMEOUT_STRATEGIES, { description: "cooperative: abort the write's signal and wait for it to stop. aggressive: give up at once, even if the write ignores the signal. Default cooperative." })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Time limit of one sink write ("10s"; 0 for none), or { duration, strategy }. A timeout is a transient error.' },
);

export const circuitBreakerSchema = Type.Object(
  {
    failure_threshold: Type.Optional(Type.Integer({ minimum: 1, description: "Open after this many consecutive failures. The default way to open (5) when no rate key is given." })),
    failure_rate: Type.Optional(rateSchema("Rate-based instead: open when this fraction (0..1] of the calls in the window failed.")),
    window: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String()], {
        description: 'Rate-based only: the last N calls (a number, e.g. 100) or the calls of the last period (a duration with a unit, e.g. "30s", counted in 10 buckets). Default 100 calls.',
      }),
    ),
    minimum_calls: Type.Optional(Type.Integer({ minimum: 1, description: "Rate-based only: calls the window must hold before a rate is judged. Default 20 (at most a count window's size)." })),
    slow_call_duration: Type.Optional(durationSchema({ description: "Calls taking at least this long count as slow (with slow_call_rate)." })),
    slow_call_rate: Type.Optional(rateSchema("Open when this fraction (0..1] of the calls in the window were slow (needs slow_call_duration).")),
    reset_timeout: Type.Optional(durationSchema({ description: "How long the circuit stays open before probe calls may go through (half-open). Default 30s." })),
    half_open_probes: Type.Optional(Type.Integer({ minimum: 1, description: "Probe calls allowed at the same time while half-open. Default 1." })),
    success_threshold: Type.Optional(Type.Integer({ minimum: 1, description: "Successful probes needed to close the circuit again. Default 1." })),
    timeout: Type.Optional(durationSchema({ description: "The call timeout, the same as resilience.timeout (which it must not contradict)." })),
  },
  { additionalProperties: false, description: "Stops calling a failing target for a while, so it can recover." },
);

export const rateLimitSchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, description: "Permits per `per` (required, here or on the target connection)." })),
    per: Type.Optional(durationSchema({ description: "The period `limit` counts over. Default 1s." })),
    burst: Type.Optional(Type.Integer({ minimum: 1, description: "token_bucket only: permits that may be used at once after a quiet spell (the bucket size). Default: limit." })),
    algorithm: Type.Optional(literals(RATE_LIMIT_ALGORITHMS, { description: "token_bucket: a steady rate with bursts up to `burst`. sliding_window: at most `limit` in any `per`. Default token_bucket." })),
    wait: Type.Optional(Type.Boolean({ description: "true: wait for a permit. false: fail the write as a transient error with a Retry-After. Default true." })),
    redis: Type.Optional(redisUrlSchema("limit")),
  },
  { additionalProperties: false, description: "At most `limit` calls per `per`." },
);

export const bulkheadSchema = Type.Object(
  {
    max_concurrent: Type.Optional(Type.Integer({ minimum: 1, description: "Calls running at the same time (required, here or on the target connection)." })),
    max_queue: Type.Optional(Type.Integer({ minimum: 0, description: "Calls that may wait for a free slot; more are rejected as transient errors. Default 0." })),
    queue_timeout: Type.Optional(durationSchema({ description: "How long a call may wait in the queue (needs max_queue > 0). Default: as long as it takes." })),
  },
  { additionalProperties: false, description: "Caps the calls in flight, so one slow target cannot take every resource." },
);

export const cacheSchema = Type.Object(
  {
    ttl: Type.Optional(durationSchema({ description: "How long a looked-up value is kept (required, here or on the target connection)." })),
    max_entries: Type.Optional(Type.Integer({ minimum: 1, description: "Entries kept in memory; the least recently used go first. Default 10000." })),
    redis: Type.Optional(redisUrlSchema("cache")),
  },
  { additionalProperties: false, description: "Caches lookups made by connectors that read (e.g. HTTP)." },
);

export const resilienceSchema = Type.Object(
  {
    retry: Type.Optional(retrySchema),
    timeout: Type.Optional(timeoutSchema),
    circuit_breaker: Type.Optional(circuitBreakerSchema),
    rate_limit: Type.Optional(rateLimitSchema),
    bulkhead: Type.Optional(bulkheadSchema),
    cache: Type.Optional(cacheSchema),
  },
  { additionalProperties: false, description: "Retries, time limits, circuit breaker, rate limit, bulkhead and cache." },
);

export const syncSchema = Type.Object(
  {
    trigger: Type.Optional(literals(TRIGGERS, { description: "once: run until caught up, then stop. continuous: keep following new data. schedule: run on the cron `schedule`. Default once." })),
    schedule: Type.Optional(Type.String({ description: 'Cron expression for trigger: schedule, e.g. "*/5 * * * *".' })),
    timezone: Type.Optional(Type.String({ description: 'IANA time zone of the schedule, e.g. "Europe/Paris". Default: the machine\'s.' })),
    batch_size: Type.Optional(Type.Integer({ minimum: 1, description: "Messages per sink batch. Default 500." })),
    batch_bytes: Type.Optional(sizeSchema({ description: "Approximate bytes per sink batch. Default 4mb." })),
    batch_period: Type.Optional(durationSchema({ description: "Flush a partial batch this long after its first message. Default 1s." })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: "Sink batches written at the same time. Default 4." })),
  },
  { additionalProperties: false, description: "When the integration runs and how it batches." },
);

export const monitoringSchema = Type.Object(
  {
    alerts: Type.Optional(
      Type.Object(
        {
          error_rate_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Fraction (0..1) of failed messages over the window that degrades health." })),
          latency_threshold: Type.Optional(durationSchema({ description: "Sink write latency over the window that degrades health." })),
          window: Type.Optional(durationSchema({ description: "Sliding window the thresholds are evaluated over. Default 1m." })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: "Health degradation thresholds." },
);

/** `source:` / `target:` as far as the engine is concerned; the rest is checked against the connector. */
export const endpointSchema = Type.Object(
  {
    connection: Type.Optional(Type.String({ minLength: 1, description: "Name of a connection defined under `connections`." })),
    webhook: Type.Optional(
      Type.String({ minLength: 1, description: "Instead of `connection`: a source reads the events of the `webhooks.inbound` endpoint of this name; a target sends to the `webhooks.outbound` entry of this name." }),
    ),
  },
  { additionalProperties: true },
);

const WHEN_DESCRIPTION = "JSONata condition on the transformed payload (`$message` holds the envelope, as in `map`): the target gets the message when it is true.";

export const targetNameSchema = Type.String({
  minLength: 1,
  description: "Name of this target, unique in the integration (metric labels, logs, dead-letter stage `sink:<name>`). Default: the connection name.",
});

/** One item of `targets:`: an endpoint with an optional name and condition. */
function fanOutTargetSchema(endpoint: TSchema): TSchema {
  const properties = (endpoint as { properties?: Record<string, TSchema> }).properties ?? {};
  return {
    ...endpoint,
    properties: { ...properties, name: targetNameSchema, when: Type.String({ minLength: 1, description: WHEN_DESCRIPTION }) },
    description: "A target: `connection`, the connector's target options, and optionally `name` and `when`.",
  } as TSchema;
}

/** One case of `switch:`. */
function switchCaseSchema(endpoint: TSchema): TSchema {
  return Type.Object(
    {
      when: Type.Optional(Type.String({ minLength: 1, description: `${WHEN_DESCRIPTION} A case without \`when\` is the default and must be the last.` })),
      name: Type.Optional(targetNameSchema),
      target: endpoint,
    },
    { additionalProperties: false },
  );
}

const TARGET_DESCRIPTION = "The one target every message is written to. Exactly one of target, targets or switch.";
const TARGETS_DESCRIPTION = "Fan-out: every message is written to each of these targets whose `when` holds. Exactly one of target, targets or switch.";
const SWITCH_DESCRIPTION = "Routing: every message is written to the target of the first case whose `when` holds; a case without `when` is the default. Exactly one of target, targets or switch.";

/** `target`, `targets` and `switch` (all optional here: the rule that exactly one is given is checked with the engine rules). */
function targetProperties(endpoint: TSchema): Record<"target" | "targets" | "switch", TSchema> {
  return {
    target: Type.Optional({ ...endpoint, description: TARGET_DESCRIPTION }),
    targets: Type.Optional(Type.Array(fanOutTargetSchema(endpoint), { minItems: 1, description: TARGETS_DESCRIPTION })),
    switch: Type.Optional(Type.Array(switchCaseSchema(endpoint), { minItems: 1, description: SWITCH_DESCRIPTION })),
  };
}

const STEPS_DESCRIPTION = "Steps applied in order, each a one-key map such as `- map: '{ \"id\": id }'`.";

/** One transform step: a map whose one key is the transform name (checked with the transforms). */
export const stepShapeSchema = Type.Object({}, { additionalProperties: true });

export const integrationSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    source: endpointSchema,
    transform: Type.Optional(Type.Array(stepShapeSchema, { description: STEPS_DESCRIPTION })),
    ...targetProperties(endpointSchema),
    sync: Type.Optional(syncSchema),
    resilience: Type.Optional(resilienceSchema),
    on_error: Type.Optional(literals(ON_ERROR, { description: "dead_letter: park failed messages and go on. fail: stop the integration. Default dead_letter." })),
    monitoring: Type.Optional(monitoringSchema),
  },
  { additionalProperties: false },
);

/** Keys of a connection block that belong to the engine; the connector never sees them. */
export const CONNECTION_ENGINE_KEYS = ["type", "required", "resilience"] as const;

export const connectionEngineProperties = {
  type: Type.String({ minLength: 1, description: "Connector type." }),
  required: Type.Optional(Type.Boolean({ description: "Whether /ready waits for this connection. Default true." })),
  resilience: Type.Optional(resilienceSchema),
};

export const connectionShapeSchema = Type.Object(connectionEngineProperties, { additionalProperties: true });

export const adminSchema = Type.Union(
  [
    Type.Literal(false),
    Type.Object(
      { listen: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Literal(false)], { description: '"host:port" of the admin HTTP server, or false. Default "127.0.0.1:9464".' })) },
      { additionalProperties: false },
    ),
  ],
  { description: "Admin HTTP server (/health, /ready, /metrics); false disables it." },
);

export const logSchema = Type.Object(
  {
    level: Type.Optional(literals(LOG_LEVELS, { description: "Default info." })),
    format: Type.Optional(literals(LOG_FORMATS, { description: "auto: pretty on a terminal, JSON lines otherwise. Default auto." })),
  },
  { additionalProperties: false },
);

export const TOP_LEVEL_KEYS = ["version", "name", "state", "admin", "log", "shutdown_timeout", "connections", "integrations", "workflows", "webhooks", "gateway"] as const;

/** Phase 1: the file's structure, with connector- and transform-specific parts left open. */
export function topLevelSchema(connection: TSchema = connectionShapeSchema, step: TSchema = stepShapeSchema, endpoint: TSchema = endpointSchema): TSchema {
  const integration =
    connection === connectionShapeSchema && step === stepShapeSchema && endpoint === endpointSchema
      ? integrationSchema
      : Type.Object(
          {
            ...integrationSchema.properties,
            source: endpoint,
            ...targetProperties(endpoint),
            transform: Type.Optional(Type.Array(step, { description: STEPS_DESCRIPTION })),
          },
          { additionalProperties: false },
        );
  return Type.Object(
    {
      version: Type.Literal(1, { description: "Config format version; must be 1." }),
      name: Type.Optional(Type.String({ minLength: 1, description: "Project name. Default: the config file's directory name." })),
      state: Type.Optional(Type.String({ minLength: 1, description: 'State store URL: "sqlite:<path>" (relative to this file) or "postgres://…". Default sqlite:.junction/state.db.' })),
      admin: Type.Optional(adminSchema),
      log: Type.Optional(logSchema),
      shutdown_timeout: Type.Optional(durationSchema({ description: "How long SIGINT/SIGTERM wait for in-flight work. Default 30s." })),
      connections: Type.Optional(Type.Object({}, { additionalProperties: connection, description: "Named, reusable connections." })),
      integrations: Type.Optional(Type.Object({}, { additionalProperties: integration, description: "Named pipelines: source → transform → target." })),
      workflows: Type.Optional(Type.Unknown({ description: "Reserved." })),
      webhooks: Type.Optional(webhooksSchema),
      gateway: Type.Optional(Type.Unknown({ description: "Reserved." })),
    },
    { additionalProperties: false },
  );
}
