import { createHash } from "node:crypto";
import type { InboundVerifierConfig, InboundWebhookConfig } from "../../config/webhooks-inbound.js";
import { webhookVerifier } from "../signatures/verifier.js";
import type { WebhookVerifierConfig } from "../signatures/verifier.js";
import type { WebhookVerifier } from "../signatures/types.js";
import { EventFilter } from "../event-filter.js";
import { compileEventField } from "./event-field.js";
import type { EventField } from "./event-field.js";

/** What each verifier type reads when the config names no `event_type` / `event_id`. */
const DEFAULT_EVENT_TYPE: Record<InboundVerifierConfig["type"], string> = {
  standard: "type",
  stripe: "type",
  github: "$headers.'x-github-event'",
  hmac: "type",
};
const DEFAULT_EVENT_ID: Partial<Record<InboundVerifierConfig["type"], string>> = { stripe: "id" };

interface CompiledRoute {
  integration: string;
  filter: EventFilter;
}

/** One `webhooks.inbound` entry compiled once: its verifier, the expressions that read type and id, and its routes. */
export class InboundEndpoint {
  readonly name: string;
  readonly path: string;
  readonly maxBodyBytes: number;
  readonly dedupTtlMs: number;
  readonly verifier: WebhookVerifier;
  readonly eventType: EventField;
  readonly #eventId: EventField | undefined;
  readonly #routes: CompiledRoute[];

  constructor(config: InboundWebhookConfig) {
    const what = `webhooks.inbound.${config.name}`;
    this.name = config.name;
    this.path = config.path;
    this.maxBodyBytes = config.maxBodyBytes;
    this.dedupTtlMs = config.dedupTtlMs;
    this.verifier = webhookVerifier(verifierOptions(config.verifier));
    this.eventType = compileEventField(config.eventType ?? DEFAULT_EVENT_TYPE[config.verifier.type], `${what}.event_type`);
    const eventId = config.eventId ?? DEFAULT_EVENT_ID[config.verifier.type];
    this.#eventId = eventId === undefined ? undefined : compileEventField(eventId, `${what}.event_id`);
    this.#routes = config.routes.map((route) => ({ integration: route.integration, filter: new EventFilter(route.events) }));
  }

  /** The integrations that take an event of this type (every route without filters takes every event). */
  routesFor(eventType: string | undefined): string[] {
    const out: string[] = [];
    for (const route of this.#routes) if (route.filter.matches(eventType ?? "")) out.push(route.integration);
    return out;
  }

  /** The verified id, else the configured field, else the SHA-256 of the body: the same body again is the same event. */
  async eventId(verifiedId: string | undefined, body: unknown, raw: Buffer, headers: Readonly<Record<string, string>>): Promise<string> {
    if (verifiedId !== undefined) return verifiedId;
    const fromBody = this.#eventId === undefined ? undefined : await this.#eventId(body, headers);
    return fromBody ?? `sha256:${createHash("sha256").update(raw).digest("hex")}`;
  }
}

export function verifierOptions(config: InboundVerifierConfig): WebhookVerifierConfig {
  const tolerance = config.toleranceMs === undefined ? {} : { toleranceSeconds: config.toleranceMs / 1000 };
  switch (config.type) {
    case "standard":
      return { type: "standard", secrets: config.secrets, ...tolerance };
    case "stripe":
      return { type: "stripe", secrets: config.secrets, ...tolerance };
    case "github":
      return { type: "github", secrets: config.secrets };
    case "hmac": {
      const { type: _type, secrets, toleranceMs: _tolerance, ...scheme } = config;
      return { type: "hmac", secrets, ...tolerance, ...(scheme as { header: string }) };
    }
  }
}
