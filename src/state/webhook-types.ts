/**
 * The parts of the state store the webhook runtimes use: the inbox of verified inbound
 * events waiting for their integrations, and the outbound deliveries with a log of every
 * attempt. Each is a property of the StateStore with its own implementation file per dialect.
 */

// ── Inbound: the inbox ──────────────────────────────────────────────────────

export interface NewInboundEvent {
  /** Name of the `webhooks.inbound` entry that received it. */
  endpoint: string;
  /** The sender's id of the event or delivery (`webhook-id`, `X-GitHub-Delivery`, Stripe's `id`, …): the replay-protection key. */
  eventId: string;
  eventType?: string;
  /** One inbox row per integration the event is routed to (may be empty: accepted, routed nowhere). */
  integrations: string[];
  receivedAt: Date;
  /** Request headers worth keeping (lower-case names; credentials and signatures removed). */
  headers: Record<string, string>;
  /** The raw body as received (UTF-8 text). */
  body: string;
  /** How long the id is remembered: the same id again within it is a duplicate. */
  dedupTtlMs: number;
}

export interface InboundEvent {
  /** Inbox row id (sortable: rows are taken in arrival order). */
  id: string;
  endpoint: string;
  integration: string;
  eventId: string;
  eventType?: string;
  receivedAt: Date;
  headers: Record<string, string>;
  body: string;
  /** How many times the row was taken, this time included. */
  deliveries: number;
}

export type InboundAcceptance = "accepted" | "duplicate";

export interface WebhookInboxStore {
  /**
   * In one transaction for all of them (a group commit): claims each event's `eventId` in the
   * idempotency keys (scope `webhook:<endpoint>`, for its `dedupTtlMs`) and stores the event
   * once per routed integration. An event is "duplicate" when its id was accepted before and
   * has not expired, or appears earlier in the same call: nothing is stored for it. Results are
   * in the order of `events`; a failure stores none of them.
   */
  accept(events: readonly NewInboundEvent[]): Promise<InboundAcceptance[]>;
  /** Takes up to `limit` visible events of `integration`, oldest first, hiding them for `leaseMs` (another instance skips them). */
  claim(integration: string, limit: number, leaseMs: number): Promise<InboundEvent[]>;
  /** Removes settled events (written or dead-lettered). */
  complete(ids: readonly string[]): Promise<void>;
  /** Makes taken events visible again only after `delayMs` from now: to give them back (their batch could not be settled), or to extend a lease. */
  release(ids: readonly string[], delayMs: number): Promise<void>;
  /** Events waiting (visible or taken), optionally of one integration or endpoint. */
  count(filter?: { integration?: string; endpoint?: string }): Promise<number>;
}

// ── Outbound: deliveries and their attempts ────────────────────────────────

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface NewWebhookDelivery {
  /** Name of the `webhooks.outbound` entry. */
  outbound: string;
  /** Endpoint name within it. */
  endpoint: string;
  /** The message id the event came from: (outbound, endpoint, messageId) is unique, so a retried write enqueues nothing new. */
  messageId: string;
  /** Sent as `webhook-id`: the same on every attempt, so receivers can deduplicate. */
  eventId: string;
  eventType: string;
  /** The body to send, exactly as it will be signed. */
  body: string;
  createdAt: Date;
}

export interface WebhookDelivery extends NewWebhookDelivery {
  id: string;
  status: WebhookDeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (pending deliveries). */
  nextAttemptAt?: Date;
  lastAttemptAt?: Date;
  /** HTTP status of the last attempt, if it got a response. */
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: Date;
}

export interface NewDeliveryAttempt {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  startedAt: Date;
  latencyMs: number;
  /** Absent when no response came (network error, timeout, refused address). */
  status?: number;
  /** The response body, truncated by the caller. */
  responseBody?: string;
  error?: string;
}

export interface DeliveryAttempt extends NewDeliveryAttempt {
  id: string;
}

export interface WebhookDeliveryFilter {
  outbound?: string;
  endpoint?: string;
  status?: WebhookDeliveryStatus;
  /** Only deliveries created at or after this instant. */
  since?: Date;
  limit?: number;
}

/** What happens to a delivery after an attempt. */
export type DeliveryOutcome =
  | { status: "delivered" }
  | { status: "pending"; nextAttemptAt: Date }
  | { status: "failed" };

export interface WebhookEndpointState {
  outbound: string;
  endpoint: string;
  disabled: boolean;
  disabledAt?: Date;
  disabledReason?: string;
  /** Start of the current run of failures; absent after a success. */
  failingSince?: Date;
}

export interface WebhookDeliveryStore {
  /** Stores deliveries as pending and due now; those whose (outbound, endpoint, messageId) exists already are skipped. Returns how many were new. */
  enqueue(deliveries: readonly NewWebhookDelivery[]): Promise<number>;
  /** Takes up to `limit` pending deliveries due by now, oldest due first, hiding them for `leaseMs` (another instance skips them); never those of a disabled endpoint. */
  claimDue(limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  /**
   * Records one attempt and the delivery's new state in one transaction. `attempt.attempt`
   * must be the claimed delivery's `attempts + 1`: it fences stale lease holders. The attempt
   * row is always kept (the request was made), but a "pending" or "failed" outcome changes
   * the delivery only while it is pending with fewer recorded attempts, so of two holders
   * making the same attempt the first to record wins, and nothing overrides a newer outcome
   * or a delivered one. A "delivered" outcome applies whenever the delivery is not delivered
   * yet (it did reach the receiver). An unknown delivery id is an error.
   */
  recordAttempt(attempt: NewDeliveryAttempt, outcome: DeliveryOutcome): Promise<void>;
  get(id: string): Promise<WebhookDelivery | undefined>;
  list(filter?: WebhookDeliveryFilter): Promise<WebhookDelivery[]>;
  /** Every attempt of a delivery, in order. */
  attempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Makes one delivery pending and due now again (whatever its status); false when unknown. */
  resend(id: string): Promise<boolean>;
  /** Makes every failed delivery of an endpoint created since `since` pending and due now; returns how many. */
  recover(outbound: string, endpoint: string, since: Date): Promise<number>;
  /** Removes delivered and failed deliveries created before `before`, with their attempts; returns how many deliveries. Pending ones stay. */
  purgeSettled(before: Date): Promise<number>;
  getEndpoint(outbound: string, endpoint: string): Promise<WebhookEndpointState | undefined>;
  /** Creates or replaces an endpoint's state. */
  setEndpoint(state: WebhookEndpointState): Promise<void>;
}
