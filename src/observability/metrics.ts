import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type MessageStage = "source" | "transform" | "sink" | "dead_letter";
export type MessageOutcome = "ok" | "failed" | "filtered" | "retried" | "dead_lettered";

/** Values of `junction_circuit_state`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface JunctionMetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC, handles). Default true. */
  defaultMetrics?: boolean;
}

/** From 100µs to 30s, roughly ×2.5 apart: the range of one read, mapping or write. */
const STAGE_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** From 5 ms to 30 s: one outbound webhook request, up to its timeout. */
const WEBHOOK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/**
 * Every metric Junction exposes, in a registry of its own (never prom-client's global one)
 * so several runtimes in one process do not clash.
 */
export class JunctionMetrics {
  readonly registry: Registry;
  readonly messagesTotal: Counter<"integration" | "stage" | "outcome">;
  readonly stageDuration: Histogram<"integration" | "stage">;
  readonly retriesTotal: Counter<"integration" | "stage">;
  readonly circuitState: Gauge<"name">;
  readonly policyEventsTotal: Counter<"policy" | "name" | "event">;
  readonly deadLetters: Gauge<"integration">;
  readonly httpRequestsTotal: Counter<"route" | "method" | "status">;
  readonly runsTotal: Counter<"integration" | "status">;
  readonly batchSize: Histogram<"integration">;
  readonly inFlight: Gauge<"integration">;
  readonly connectionHealth: Gauge<"connection">;
  readonly webhookAttemptsTotal: Counter<"outbound" | "endpoint" | "result">;
  readonly webhookDeliveriesTotal: Counter<"outbound" | "endpoint" | "outcome">;
  readonly webhookAttemptDuration: Histogram<"outbound" | "endpoint">;
  readonly webhookEndpointsDisabledTotal: Counter<"outbound" | "endpoint" | "reason">;
  readonly webhooksReceivedTotal: Counter<"webhook" | "outcome">;

  constructor(options: JunctionMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

    this.messagesTotal = new Counter({
      name: "junction_messages_total",
      help: "Messages handled by each stage of an integration (stage: source, transform, sink, dead_letter), by outcome (ok, failed, filtered, retried, dead_lettered).",
      labelNames: ["integration", "stage", "outcome"],
      registers,
    });
    this.stageDuration = new Histogram({
      name: "junction_stage_duration_seconds",
      help: "Time one stage of an integration took for a batch: a source read, a transform or a sink write, in seconds.",
      labelNames: ["integration", "stage"],
      buckets: STAGE_DURATION_BUCKETS,
      registers,
    });
    this.retriesTotal = new Counter({
      name: "junction_retries_total",
      help: "Retry attempts made after a transient failure, by integration and stage.",
      labelNames: ["integration", "stage"],
      registers,
    });
    this.circuitState = new Gauge({
      name: "junction_circuit_state",
      help: "State of each circuit breaker: 0 closed (calls flow), 1 half-open (probing), 2 open (calls rejected).",
      labelNames: ["name"],
      registers,
    });
    this.policyEventsTotal = new Counter({
      name: "junction_policy_events_total",
      help: "Events of resilience policies: retry (retry, give_up), circuit_breaker (open, half_open, close), bulkhead (rejected), rate_limit (limited), timeout (timed_out), cache (hit, miss), fallback (used), hedge (hedged).",
      labelNames: ["policy", "name", "event"],
      registers,
    });
    this.deadLetters = new Gauge({
      name: "junction_dead_letters",
      help: "Dead letters waiting to be replayed or purged, by integration.",
      labelNames: ["integration"],
      registers,
    });
    this.httpRequestsTotal = new Counter({
      name: "junction_http_requests_total",
      help: "HTTP requests answered by the admin server, by route pattern, method and status code.",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.runsTotal = new Counter({
      name: "junction_runs_total",
      help: "Finished integration runs, by integration and final status (succeeded, failed, partial, interrupted).",
      labelNames: ["integration", "status"],
      registers,
    });
    this.batchSize = new Histogram({
      name: "junction_batch_size_messages",
      help: "Number of messages in each batch read from a source.",
      labelNames: ["integration"],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({
      name: "junction_in_flight_messages",
      help: "Messages read from a source and not yet acknowledged, by integration.",
      labelNames: ["integration"],
      registers,
    });
    this.connectionHealth = new Gauge({
      name: "junction_connection_up",
      help: "1 when the last health check of a connection found it healthy or degraded, 0 when unhealthy.",
      labelNames: ["connection"],
      registers,
    });
    this.webhookAttemptsTotal = new Counter({
      name: "junction_webhook_attempts_total",
      help: "Outbound webhook delivery attempts, by result: success (2xx), http_error (another status), network_error (no answer, timeout) or refused (address not allowed).",
      labelNames: ["outbound", "endpoint", "result"],
      registers,
    });
    this.webhookDeliveriesTotal = new Counter({
      name: "junction_webhook_deliveries_total",
      help: "Outbound webhook deliveries settled, by outcome: delivered, or failed (schedule used up, address refused, endpoint gone).",
      labelNames: ["outbound", "endpoint", "outcome"],
      registers,
    });
    this.webhookAttemptDuration = new Histogram({
      name: "junction_webhook_delivery_duration_seconds",
      help: "Time one outbound webhook attempt took, from connecting to the end of the answer, in seconds.",
      labelNames: ["outbound", "endpoint"],
      buckets: WEBHOOK_DURATION_BUCKETS,
      registers,
    });
    this.webhookEndpointsDisabledTotal = new Counter({
      name: "junction_webhook_endpoints_disabled_total",
      help: "Outbound webhook endpoints disabled, by reason: gone (answered 410) or failing (every attempt failed for disable_after).",
      labelNames: ["outbound", "endpoint", "reason"],
      registers,
    });
    this.webhooksReceivedTotal = new Counter({
      name: "junction_webhooks_received_total",
      help: "Inbound webhook requests, by outcome: accepted, duplicate, a verification failure (missing_header, malformed, stale, future, bad_signature), invalid_body or store_failed.",
      labelNames: ["webhook", "outcome"],
      registers,
    });
  }

  /** The Prometheus text exposition of every metric in this registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
