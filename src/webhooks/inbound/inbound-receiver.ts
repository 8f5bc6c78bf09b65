import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import { errorMessage } from "../../core/errors.js";
import type { JunctionMetrics } from "../../observability/metrics.js";
import type { VerifyFailureReason } from "../signatures/types.js";
import type { InboundEndpoint } from "./inbound-endpoint.js";
import type { InboxWriter } from "./inbox-writer.js";

export interface InboundResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Request headers that carry credentials: never stored with an event. */
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);
const RETRY_LATER = { "retry-after": "5" };

/** Malformed or missing signature headers are bad requests; a signature that does not verify or a timestamp outside the window is unauthorised. */
const FAILURE_STATUS: Record<VerifyFailureReason, number> = {
  missing_header: 400,
  malformed: 400,
  stale: 401,
  future: 401,
  bad_signature: 401,
};

/**
 * Turns one POST into an answer: verified over the raw bytes, its type and id read, then
 * stored in the inbox with its replay-protection key in one transaction — and only then
 * 200. A repeated id is answered 200 as a duplicate and stores nothing; a store failure is
 * 503 with Retry-After so the sender tries again later.
 */
export class InboundReceiver {
  constructor(
    readonly endpoint: InboundEndpoint,
    private readonly inbox: InboxWriter,
    private readonly logger: Logger,
    private readonly metrics: JunctionMetrics,
    private readonly onAccepted: (integrations: readonly string[]) => void,
  ) {}

  async receive(raw: Buffer, requestHeaders: IncomingHttpHeaders, contentType: string | undefined): Promise<InboundResponse> {
    const { response, outcome } = await this.#receive(raw, requestHeaders, contentType);
    this.metrics.webhooksReceivedTotal.inc({ webhook: this.endpoint.name, outcome });
    return response;
  }

  async #receive(raw: Buffer, requestHeaders: IncomingHttpHeaders, contentType: string | undefined): Promise<{ response: InboundResponse; outcome: string }> {
    const endpoint = this.endpoint;
    const verdict = endpoint.verifier.verify(raw, requestHeaders);
    if (!verdict.ok) {
      this.logger.warn({ webhook: endpoint.name, reason: verdict.reason }, `webhook rejected: ${verdict.message}`);
      return { response: { status: FAILURE_STATUS[verdict.reason], body: { error: verdict.message, reason: verdict.reason } }, outcome: verdict.reason };
    }
    const text = raw.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      if (isJson(contentType)) return { response: { status: 400, body: { error: "the body is not valid JSON" } }, outcome: "invalid_body" };
      payload = text;
    }
    const headers = keptHeaders(requestHeaders);
    let eventType: string | undefined;
    let eventId: string;
    try {
      eventType = await endpoint.eventType(payload, headers);
      eventId = await endpoint.eventId(verdict.id, payload, raw, headers);
    } catch (error) {
      return { response: { status: 400, body: { error: `cannot read the event type or id: ${errorMessage(error)}` } }, outcome: "invalid_body" };
    }
    const integrations = endpoint.routesFor(eventType);
    let acceptance;
    try {
      acceptance = await this.inbox.accept({
        endpoint: endpoint.name,
        eventId,
        ...(eventType === undefined ? {} : { eventType }),
        integrations,
        receivedAt: new Date(),
        headers,
        body: text,
        dedupTtlMs: endpoint.dedupTtlMs,
      });
    } catch (error) {
      this.logger.error({ err: error, webhook: endpoint.name, event_id: eventId }, "webhook not stored: the state store failed; the sender was asked to retry");
      return { response: { status: 503, body: { error: "the event could not be stored; retry later" }, headers: RETRY_LATER }, outcome: "store_failed" };
    }
    if (acceptance === "duplicate") {
      this.logger.debug({ webhook: endpoint.name, event_id: eventId }, "webhook already accepted: duplicate ignored");
      return { response: { status: 200, body: { status: "duplicate", id: eventId } }, outcome: "duplicate" };
    }
    if (integrations.length > 0) this.onAccepted(integrations);
    else this.logger.info({ webhook: endpoint.name, event_id: eventId, event_type: eventType }, "webhook accepted but no integration takes this event type");
    return { response: { status: 200, body: { status: "accepted", id: eventId, routed: integrations.length } }, outcome: "accepted" };
  }
}

function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return kept;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = (contentType.split(";")[0] as string).trim().toLowerCase();
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}
