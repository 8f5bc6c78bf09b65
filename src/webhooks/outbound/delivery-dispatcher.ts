import type { Logger } from "pino";
import type { JunctionMetrics } from "../../observability/metrics.js";
import type { WebhookDelivery, WebhookDeliveryStore } from "../../state/webhook-types.js";
import { decideAttempt } from "./attempt-outcome.js";
import type { EndpointHealthTracker } from "./endpoint-health-tracker.js";
import type { EndpointRuntime, HeldDelivery, OutboundRuntime } from "./outbound-runtime.js";
import type { AttemptResult } from "./webhook-sender.js";

export interface DispatcherOptions {
  /** How often the store is asked for due deliveries when nothing else wakes the dispatcher. Default 1 s. */
  pollIntervalMs?: number;
  /** How long a taken delivery stays hidden from other instances. Default: 1 min, or more with long timeouts. */
  leaseMs?: number;
}

export interface DispatcherDeps {
  store: WebhookDeliveryStore;
  logger: Logger;
  metrics: JunctionMetrics;
  health: EndpointHealthTracker;
}

/** Most wake-up times remembered for deliveries due later; beyond them the poll finds what is due. */
const MAX_DUE_TIMES = 1000;
/** Claims in a row when every delivery claimed belonged to endpoints that had no room. */
const CLAIM_ROUNDS = 4;
/** Deliveries held per endpoint (queued or sending) at least, as a multiple of its concurrency. */
const ENDPOINT_BACKLOG = 8;
/** Deliveries held per outbound entry, as a multiple of its concurrency. */
const OUTBOUND_BACKLOG = 8;
/** Weight of the newest attempt in an endpoint's latency average. */
const LATENCY_WEIGHT = 0.2;
/** Most deliveries asked for in one claim: less than an endpoint of unknown latency may hold, so a burst is not left to its leases. */
const MAX_CLAIM = 100;
/** A queued delivery is sent only when its lease has at least the timeout plus this left. */
const LEASE_MARGIN_MS = 2000;

/**
 * Sends due deliveries while `junction run` runs. It takes due deliveries from the store
 * under a lease and queues them per endpoint, a bounded number each; at most `concurrency`
 * attempts are in flight per endpoint and per outbound entry, endpoints take turns for the
 * entry's slots, and a throttled endpoint waits without holding a slot — so one slow or
 * throttled endpoint cannot hold up the others. A delivery whose endpoint has no room, or
 * whose lease runs short while it waits, is left to the store: it is offered again when its
 * lease ends. Every attempt is recorded with its outcome, and the endpoint's health follows
 * (410, or failing for `disable_after`, disables it).
 *
 * Stopping stops taking deliveries, drops the queued ones (their leases end) and lets the
 * attempts in flight finish until the stop signal aborts them; an aborted attempt is not
 * recorded and is sent again after its lease.
 */
export class DeliveryDispatcher {
  readonly #outbounds: ReadonlyMap<string, OutboundRuntime>;
  readonly #deps: DispatcherDeps;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #capacity: number;
  readonly #stopping = new AbortController();
  readonly #sending = new AbortController();
  /** Ids of the deliveries in hand (queued or sending). */
  readonly #held = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #warnedUnknown = new Set<string>();
  readonly #dueTimes: number[] = [];
  #loop: Promise<void> | undefined;
  #woken = false;
  #wakeIdle: (() => void) | undefined;

  constructor(outbounds: ReadonlyMap<string, OutboundRuntime>, deps: DispatcherDeps, options: DispatcherOptions = {}) {
    this.#outbounds = outbounds;
    this.#deps = deps;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    const longestTimeout = Math.max(0, ...[...outbounds.values()].map((outbound) => outbound.config.timeoutMs));
    this.#leaseMs = options.leaseMs ?? Math.max(60_000, 2 * longestTimeout + 10_000);
    this.#capacity = [...outbounds.values()].reduce((sum, outbound) => sum + outbound.config.concurrency * OUTBOUND_BACKLOG, 0);
  }

  start(): void {
    if (this.#loop !== undefined || this.#stopping.signal.aborted || this.#outbounds.size === 0) return;
    this.#loop = this.#run();
  }

  /** Looks for due deliveries now (new ones were enqueued, or room came free). */
  wake(): void {
    this.#woken = true;
    this.#wakeIdle?.();
  }

  async stop(signal?: AbortSignal): Promise<void> {
    this.#stopping.abort();
    this.wake();
    await this.#loop;
    for (const outbound of this.#outbounds.values()) {
      for (const endpoint of outbound.endpoints.values()) {
        clearTimeout(endpoint.throttleTimer);
        endpoint.throttleTimer = undefined;
        for (const held of endpoint.queue) this.#held.delete(held.delivery.id);
        endpoint.queue.length = 0;
      }
    }
    const cancel = (): void => this.#sending.abort();
    if (signal?.aborted) cancel();
    else signal?.addEventListener("abort", cancel, { once: true });
    try {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  }

  async #run(): Promise<void> {
    const { logger } = this.#deps;
    while (!this.#stopping.signal.aborted) {
      try {
        await this.#claim();
      } catch (error) {
        logger.warn({ err: error }, "could not take due webhook deliveries from the state store; trying again");
      }
      await this.#idle();
    }
  }

  async #claim(): Promise<void> {
    for (let round = 0; round < CLAIM_ROUNDS; round += 1) {
      const room = Math.min(MAX_CLAIM, this.#capacity - this.#held.size);
      if (room <= 0 || this.#stopping.signal.aborted) return;
      const claimedAt = Date.now();
      const due = await this.#deps.store.claimDue(room, this.#leaseMs);
      let admitted = 0;
      for (const delivery of due) if (this.#admit(delivery, claimedAt)) admitted += 1;
      if (due.length < room || admitted > 0) return;
    }
  }

  #admit(delivery: WebhookDelivery, claimedAt: number): boolean {
    if (this.#stopping.signal.aborted || this.#held.has(delivery.id)) return false;
    const outbound = this.#outbounds.get(delivery.outbound);
    const endpoint = outbound?.endpoints.get(delivery.endpoint);
    if (outbound === undefined || endpoint === undefined) {
      this.#warnUnknown(delivery);
      return false;
    }
    if (outbound.held >= outbound.config.concurrency * OUTBOUND_BACKLOG) return false;
    if (endpoint.queue.length + endpoint.sending >= this.#backlogLimit(outbound, endpoint)) return false;
    this.#held.add(delivery.id);
    endpoint.queue.push({ delivery, claimedAt });
    this.#pump(outbound, endpoint);
    return true;
  }

  /**
   * How many deliveries of an endpoint to hold: what it can be sent, by its latency so far
   * and its throttle, in half the usable lease — at least a few per slot, at most the
   * entry's share. A fast endpoint takes a burst in one claim; a slow one holds little, so
   * what it cannot take stays in the store for others (or a later claim).
   */
  #backlogLimit(outbound: OutboundRuntime, endpoint: EndpointRuntime): number {
    const floor = endpoint.config.concurrency * ENDPOINT_BACKLOG;
    const ceiling = outbound.config.concurrency * OUTBOUND_BACKLOG;
    // Before its first answer: up to half the entry's share, which a slow endpoint gives back when its leases run short.
    if (endpoint.latencyMs === undefined) return Math.min(ceiling, Math.max(floor, Math.floor(ceiling / 2)));
    const usableMs = Math.max(0, this.#leaseMs - outbound.config.timeoutMs - LEASE_MARGIN_MS) / 2;
    let drainable = (usableMs / Math.max(1, endpoint.latencyMs)) * endpoint.config.concurrency;
    const throttle = endpoint.config.throttle;
    if (throttle !== undefined) drainable = Math.min(drainable, throttle.limit + (usableMs * throttle.limit) / throttle.perMs);
    return Math.min(ceiling, Math.max(floor, Math.floor(drainable)));
  }

  /** Starts what the endpoint's queue, its slots, the entry's slots and its throttle allow. */
  #pump(outbound: OutboundRuntime, endpoint: EndpointRuntime): void {
    while (!this.#stopping.signal.aborted && endpoint.throttleTimer === undefined && endpoint.queue.length > 0) {
      if (endpoint.sending >= endpoint.config.concurrency || outbound.sending >= outbound.config.concurrency) return;
      const head = endpoint.queue[0] as HeldDelivery;
      if (head.claimedAt + this.#leaseMs - Date.now() < outbound.config.timeoutMs + LEASE_MARGIN_MS) {
        // Too little of the lease is left to send and record it: the store offers it again soon.
        endpoint.queue.shift();
        this.#held.delete(head.delivery.id);
        continue;
      }
      const wait = endpoint.throttle?.tryAcquire() ?? 0;
      if (wait > 0) {
        endpoint.throttleTimer = setTimeout(() => {
          endpoint.throttleTimer = undefined;
          this.#pump(outbound, endpoint);
        }, wait);
        return;
      }
      endpoint.queue.shift();
      this.#start(outbound, endpoint, head.delivery);
    }
  }

  #start(outbound: OutboundRuntime, endpoint: EndpointRuntime, delivery: WebhookDelivery): void {
    outbound.sending += 1;
    endpoint.sending += 1;
    let released = false;
    // Once its attempt is recorded the delivery may be due again before the endpoint's
    // health is updated: it must be claimable then, not mistaken for one still in hand.
    const release = (): void => {
      if (released) return;
      released = true;
      this.#held.delete(delivery.id);
    };
    const work = this.#deliver(outbound, endpoint, delivery, release)
      .catch((error: unknown) => {
        this.#deps.logger.error(
          { err: error, outbound: delivery.outbound, endpoint: delivery.endpoint, delivery: delivery.id },
          "a webhook delivery attempt could not be recorded; it is sent again when its lease ends",
        );
      })
      .finally(() => {
        outbound.sending -= 1;
        endpoint.sending -= 1;
        release();
        this.#inFlight.delete(work);
        // The freed slot goes to this endpoint first, then to the entry's other endpoints.
        this.#pump(outbound, endpoint);
        for (const other of outbound.endpoints.values()) if (other !== endpoint) this.#pump(outbound, other);
        this.wake();
      });
    this.#inFlight.add(work);
  }

  async #deliver(outbound: OutboundRuntime, endpoint: EndpointRuntime, delivery: WebhookDelivery, release: () => void): Promise<void> {
    const attempt = delivery.attempts + 1;
    const config = endpoint.config;
    const result = await outbound.sender.send(
      { url: endpoint.url, body: delivery.body, eventId: delivery.eventId, secrets: config.secrets, headers: config.headers },
      this.#sending.signal,
    );
    if (result.aborted) return;
    endpoint.latencyMs = endpoint.latencyMs === undefined ? result.latencyMs : endpoint.latencyMs + LATENCY_WEIGHT * (result.latencyMs - endpoint.latencyMs);
    await this.#settle(outbound, delivery, attempt, result, release);
  }

  async #settle(outbound: OutboundRuntime, delivery: WebhookDelivery, attempt: number, result: AttemptResult, release: () => void): Promise<void> {
    const { store, logger, metrics, health } = this.#deps;
    const now = Date.now();
    const decision = decideAttempt(result, attempt, outbound.schedule, now);
    await store.recordAttempt(
      {
        deliveryId: delivery.id,
        attempt,
        startedAt: result.startedAt,
        latencyMs: result.latencyMs,
        ...(result.status === undefined ? {} : { status: result.status }),
        ...(result.responseBody === undefined ? {} : { responseBody: result.responseBody }),
        ...(result.error === undefined ? {} : { error: result.error }),
      },
      decision.outcome,
    );
    release();

    const labels = { outbound: delivery.outbound, endpoint: delivery.endpoint };
    metrics.webhookAttemptsTotal.inc({ ...labels, result: attemptResultLabel(result) });
    metrics.webhookAttemptDuration.observe(labels, result.latencyMs / 1000);
    if (decision.outcome.status !== "pending") metrics.webhookDeliveriesTotal.inc({ ...labels, outcome: decision.outcome.status });
    const context = { ...labels, delivery: delivery.id, event_type: delivery.eventType, attempt, status: result.status, latency_ms: result.latencyMs };
    if (result.refused) logger.warn({ ...context, error: result.error }, "webhook delivery refused: the endpoint's address is not allowed");
    else if (decision.outcome.status === "failed") logger.warn({ ...context, error: result.error }, "webhook delivery failed; no attempt is left");
    else if (decision.outcome.status === "pending") {
      logger.debug({ ...context, error: result.error, next_attempt_at: decision.outcome.nextAttemptAt.toISOString() }, "webhook delivery attempt failed; trying again later");
      this.#dueAt(decision.outcome.nextAttemptAt.getTime());
    } else logger.debug(context, "webhook delivered");

    try {
      const at = new Date(now);
      if (decision.disableReason !== undefined) await health.gone(delivery.outbound, delivery.endpoint, at, decision.disableReason);
      else if (decision.endpointFailed) await health.failed(delivery.outbound, delivery.endpoint, at, outbound.config.disableAfterMs);
      else await health.succeeded(delivery.outbound, delivery.endpoint);
    } catch (error) {
      logger.warn({ err: error, ...labels }, "could not update the webhook endpoint's health in the state store");
    }
  }

  /** Remembers when a delivery is due, to look for it then rather than at the next poll. */
  #dueAt(at: number): void {
    if (this.#dueTimes.length >= MAX_DUE_TIMES) return;
    this.#dueTimes.push(at);
    this.#dueTimes.sort((a, b) => a - b);
    this.wake();
  }

  /** Waits for the poll interval, the next known due time, a wake-up or the stop. */
  async #idle(): Promise<void> {
    const now = Date.now();
    while (this.#dueTimes.length > 0 && (this.#dueTimes[0] as number) <= now) this.#dueTimes.shift();
    if (this.#woken || this.#stopping.signal.aborted) {
      this.#woken = false;
      return;
    }
    // A few ms late: the store's clock decides what is due.
    const untilDue = this.#dueTimes.length > 0 ? (this.#dueTimes[0] as number) - now + 5 : Infinity;
    const wait = Math.min(this.#pollIntervalMs, untilDue);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeIdle = done;
    });
    this.#wakeIdle = undefined;
    this.#woken = false;
  }

  #warnUnknown(delivery: WebhookDelivery): void {
    const key = `${delivery.outbound}/${delivery.endpoint}`;
    if (this.#warnedUnknown.has(key)) return;
    this.#warnedUnknown.add(key);
    this.#deps.logger.warn(
      { outbound: delivery.outbound, endpoint: delivery.endpoint },
      "pending webhook deliveries belong to an endpoint that is not in this config; they stay pending (another instance with that endpoint may send them)",
    );
  }
}

function attemptResultLabel(result: AttemptResult): string {
  if (result.refused) return "refused";
  if (result.status === undefined) return "network_error";
  return result.status >= 200 && result.status < 300 ? "success" : "http_error";
}
