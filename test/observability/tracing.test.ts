import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanStatusCode, propagation, trace } from "@opentelemetry/api";
import type {
  Attributes,
  Context,
  Exception,
  Link,
  Span,
  SpanContext,
  SpanOptions,
  SpanStatus,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  Tracer,
} from "@opentelemetry/api";
import {
  correlationIdFrom,
  extractTraceContext,
  injectTraceHeaders,
  parseTraceparent,
  withSpan,
} from "../../src/observability/tracing.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

/** What an SDK span would record, kept in memory so the test can read it. */
class RecordedSpan implements Span {
  readonly attributes: Attributes;
  readonly exceptions: Exception[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;
  readonly #context: SpanContext;

  constructor(
    readonly name: string,
    options: SpanOptions,
    readonly parent: SpanContext | undefined,
  ) {
    this.attributes = { ...options.attributes };
    this.#context = { traceId: parent?.traceId ?? TRACE_ID, spanId: "1111111111111111", traceFlags: 1 };
  }
  spanContext(): SpanContext {
    return this.#context;
  }
  setAttribute(key: string, value: Attributes[string]): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: Exception): void {
    this.exceptions.push(exception);
  }
}

const spans: RecordedSpan[] = [];
const recordingTracer = {
  startSpan(name: string, options: SpanOptions = {}, ctx?: Context): Span {
    const span = new RecordedSpan(name, options, ctx ? trace.getSpanContext(ctx) : undefined);
    spans.push(span);
    return span;
  },
  startActiveSpan(): never {
    throw new Error("withSpan is expected to use startSpan");
  },
} as unknown as Tracer;

/** The W3C `traceparent` format, enough for round trips in these tests. */
const traceparentPropagator: TextMapPropagator = {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter) {
    const span = trace.getSpanContext(ctx);
    if (span && trace.isSpanContextValid(span)) {
      setter.set(carrier, "traceparent", `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
    }
  },
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter) {
    const value = getter.get(carrier, "traceparent");
    const spanContext = parseTraceparent(Array.isArray(value) ? value[0] : value);
    return spanContext ? trace.setSpanContext(ctx, spanContext) : ctx;
  },
  fields: () => ["traceparent"],
};

after(() => {
  trace.disable();
  propagation.disable();
});

describe("correlationIdFrom", () => {
  test("prefers x-correlation-id in any casing", () => {
    assert.equal(correlationIdFrom({ "x-correlation-id": "order-42", traceparent: TRACEPARENT }), "order-42");
    assert.equal(correlationIdFrom({ "X-Correlation-Id": " order-43 " }), "order-43");
    assert.equal(correlationIdFrom({ "x-correlation-id": ["first", "second"] }), "first");
  });

  test("falls back to the trace id of a valid traceparent", () => {
    assert.equal(correlationIdFrom({ traceparent: TRACEPARENT }), TRACE_ID);
    assert.equal(correlationIdFrom({ Traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-future` }), TRACE_ID);
  });

  test("ignores unusable values", () => {
    assert.equal(correlationIdFrom({}), undefined);
    assert.equal(correlationIdFrom({ "x-correlation-id": "" }), undefined);
    assert.equal(correlationIdFrom({ "x-correlation-id": "has space\ninjected" }), undefined);
    assert.equal(correlationIdFrom({ "x-correlation-id": "x".repeat(129) }), undefined);
    for (const invalid of [
      `00-${"0".repeat(32)}-${SPAN_ID}-01`, // all-zero trace id
      `00-${TRACE_ID}-${"0".repeat(16)}-01`, // all-zero span id
      `ff-${TRACE_ID}-${SPAN_ID}-01`, // forbidden version
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`, // version 00 has four fields
      `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, // upper-case hex
      `00-${TRACE_ID}-${SPAN_ID}`, // missing flags
      "garbage",
    ]) {
      assert.equal(correlationIdFrom({ traceparent: invalid }), undefined, invalid);
    }
  });
});

describe("trace propagation", () => {
  test("is a no-op while no propagator is registered", () => {
    const headers = injectTraceHeaders({ accept: "application/json" }, extractTraceContext({ traceparent: TRACEPARENT }));
    assert.deepEqual(headers, { accept: "application/json" });
    assert.equal(trace.getSpanContext(extractTraceContext({ traceparent: TRACEPARENT }, ROOT_CONTEXT)), undefined);
  });

  test("round-trips traceparent through the registered propagator", () => {
    propagation.setGlobalPropagator(traceparentPropagator);
    const extracted = extractTraceContext({ TraceParent: TRACEPARENT }, ROOT_CONTEXT);
    assert.deepEqual(trace.getSpanContext(extracted), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    assert.deepEqual(injectTraceHeaders({}, extracted), { traceparent: TRACEPARENT });
    assert.equal(trace.getSpanContext(extractTraceContext({ traceparent: "00-bad" }, ROOT_CONTEXT)), undefined);
  });
});

describe("withSpan", () => {
  test("works without any SDK registered", async () => {
    assert.equal(await withSpan("noop", {}, () => 7), 7);
  });

  test("ends the span and returns the result", async () => {
    trace.setGlobalTracerProvider({ getTracer: () => recordingTracer });
    spans.length = 0;
    const result = await withSpan("sink.write", { "junction.integration": "users" }, async (span) => {
      span.setAttribute("junction.messages", 3);
      return "written";
    });
    assert.equal(result, "written");
    const [span] = spans;
    assert.ok(span);
    assert.equal(span.name, "sink.write");
    assert.deepEqual(span.attributes, { "junction.integration": "users", "junction.messages": 3 });
    assert.equal(span.ended, true);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  test("records the exception, sets ERROR, ends the span and rethrows", async () => {
    spans.length = 0;
    const failure = new Error("sink rejected the batch");
    await assert.rejects(
      withSpan("sink.write", {}, () => {
        throw failure;
      }),
      failure,
    );
    const [span] = spans;
    assert.ok(span);
    assert.deepEqual(span.exceptions, [failure]);
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: "sink rejected the batch" });
    assert.equal(span.ended, true);
  });

  test("starts the span under an extracted parent", async () => {
    spans.length = 0;
    propagation.setGlobalPropagator(traceparentPropagator);
    await withSpan("transform", {}, () => undefined, { parent: extractTraceContext({ traceparent: TRACEPARENT }) });
    assert.equal(spans[0]?.parent?.traceId, TRACE_ID);
    assert.equal(spans[0]?.parent?.spanId, SPAN_ID);
  });
});
