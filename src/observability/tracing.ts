import { SpanKind, SpanStatusCode, context, propagation, trace } from "@opentelemetry/api";
import type { Attributes, Context, Span, SpanContext, TextMapGetter, Tracer } from "@opentelemetry/api";
import { errorMessage } from "../core/errors.js";

export { SpanKind } from "@opentelemetry/api";
export type { Attributes, Context, Span } from "@opentelemetry/api";

/**
 * Junction's tracer. Spans are no-ops until the application registers an OpenTelemetry SDK
 * (tracer provider and propagator); nothing here depends on one.
 */
export const tracer: Tracer = trace.getTracer("junction");

/** Header carriers as they come from Node (`IncomingHttpHeaders`), fetch or message headers. */
export type HeaderCarrier = Record<string, string | string[] | undefined>;

export interface SpanOptions {
  /** Context of the parent span, e.g. from `extractTraceContext`; default the active context. */
  parent?: Context;
  kind?: SpanKind;
}

/**
 * Runs `fn` inside a span named `name`: a thrown error is recorded on the span and sets its
 * status to ERROR (success leaves the status unset, as OpenTelemetry recommends), and the
 * span always ends.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { attributes, kind: options.kind ?? SpanKind.INTERNAL }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error instanceof Error ? error : errorMessage(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Adds the trace headers of `ctx` (default: the active context) through the registered propagator; returns `headers`. */
export function injectTraceHeaders<H extends Record<string, string>>(headers: H, ctx: Context = context.active()): H {
  propagation.inject(ctx, headers);
  return headers;
}

/** The context carried by `headers` (e.g. `traceparent`) through the registered propagator, on top of `base`. */
export function extractTraceContext(headers: HeaderCarrier, base: Context = context.active()): Context {
  return propagation.extract(base, headers, headerGetter);
}

const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The correlation id a caller sent: `x-correlation-id` when it is printable and at most 128
 * characters, else the trace id of a valid W3C `traceparent`, else undefined.
 */
export function correlationIdFrom(headers: HeaderCarrier): string | undefined {
  const explicit = headerGetter.get(headers, "x-correlation-id");
  const value = (Array.isArray(explicit) ? explicit[0] : explicit)?.trim();
  if (value !== undefined && CORRELATION_ID.test(value)) return value;
  const traceparent = headerGetter.get(headers, "traceparent");
  return parseTraceparent(Array.isArray(traceparent) ? traceparent[0] : traceparent)?.traceId;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context of a W3C `traceparent` header, or undefined when it is malformed or all-zero. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has exactly four fields, later versions may append more.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const spanContext: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & 0xff, isRemote: true };
  return trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** Case-insensitive lookup, because message headers keep the sender's casing while Node lower-cases HTTP ones. */
const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys(carrier) {
    return Object.keys(carrier);
  },
  get(carrier, key) {
    const direct = carrier[key];
    if (direct !== undefined) return direct;
    const lower = key.toLowerCase();
    for (const [name, value] of Object.entries(carrier)) {
      if (name.toLowerCase() === lower) return value;
    }
    return undefined;
  },
};
