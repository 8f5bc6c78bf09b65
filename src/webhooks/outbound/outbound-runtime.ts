import type { WebhookDelivery } from "../../state/webhook-types.js";
import type { OutboundEndpointConfig, OutboundWebhookConfig } from "../../config/webhooks-outbound.js";
import { configError } from "../../core/errors.js";
import { parseStandardSigningKey } from "../signatures/standard-keys.js";
import { DeliverySchedule } from "./delivery-schedule.js";
import { EndpointThrottle } from "./endpoint-throttle.js";
import { EventFilter } from "../event-filter.js";
import { OutboundAddressPolicy } from "./outbound-address-policy.js";
import { WebhookSender } from "./webhook-sender.js";

/** A delivery taken from the store, waiting for its turn to be sent. */
export interface HeldDelivery {
  delivery: WebhookDelivery;
  /** When its lease began (ms since the epoch). */
  claimedAt: number;
}

/** One endpoint with what sending to it needs, and the deliveries of it in hand. */
export interface EndpointRuntime {
  outbound: string;
  config: OutboundEndpointConfig;
  url: URL;
  filter: EventFilter;
  throttle: EndpointThrottle | undefined;
  /** Taken deliveries waiting for a free slot or a throttle permit, oldest first. */
  queue: HeldDelivery[];
  /** Attempts in flight. */
  sending: number;
  /** Set while the endpoint waits for a throttle permit. */
  throttleTimer: NodeJS.Timeout | undefined;
  /** Moving average of its attempts' latency; undefined before the first attempt. */
  latencyMs: number | undefined;
}

/**
 * One `webhooks.outbound` entry built for running: its schedule, its sender (an undici
 * agent whose connections obey the entry's address policy) and its endpoints.
 */
export class OutboundRuntime {
  readonly config: OutboundWebhookConfig;
  readonly schedule: DeliverySchedule;
  readonly sender: WebhookSender;
  readonly endpoints = new Map<string, EndpointRuntime>();
  /** Attempts in flight over all endpoints. */
  sending = 0;

  constructor(config: OutboundWebhookConfig) {
    this.config = config;
    this.schedule = new DeliverySchedule({ delaysMs: config.scheduleMs });
    let policy: OutboundAddressPolicy;
    try {
      policy = new OutboundAddressPolicy({ allowPrivate: config.allowPrivate, allow: config.allow });
    } catch (error) {
      throw configError(`webhooks.outbound.${config.name}.allow: ${(error as Error).message}`, { code: "webhooks.bad_allow" });
    }
    for (const endpoint of Object.values(config.endpoints)) {
      const what = `webhooks.outbound.${config.name}.endpoints.${endpoint.name}`;
      if (endpoint.secrets.length === 0) throw configError(`${what}: needs a signing key (secret: whsec_… or whsk_…)`, { code: "webhooks.no_secret" });
      // Bad keys stop the start, not each attempt; messages name the key by position only.
      endpoint.secrets.forEach((secret, index) => parseStandardSigningKey(secret, what, index));
      this.endpoints.set(endpoint.name, {
        outbound: config.name,
        config: endpoint,
        url: parseEndpointUrl(endpoint.url, what),
        filter: new EventFilter(endpoint.events),
        throttle: endpoint.throttle === undefined ? undefined : new EndpointThrottle(endpoint.throttle.limit, endpoint.throttle.perMs),
        queue: [],
        sending: 0,
        throttleTimer: undefined,
        latencyMs: undefined,
      });
    }
    this.sender = new WebhookSender({ policy, timeoutMs: config.timeoutMs });
  }

  /** Deliveries of this entry in hand: queued or being sent. */
  get held(): number {
    let held = 0;
    for (const endpoint of this.endpoints.values()) held += endpoint.queue.length + endpoint.sending;
    return held;
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}

function parseEndpointUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(`${what}: url is not a URL; expected http(s)://host/path`, { code: "webhooks.bad_url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(`${what}: url must be http:// or https://`, { code: "webhooks.bad_url" });
  return url;
}
