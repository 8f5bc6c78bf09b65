import { errorKind, errorMessage } from "../../core/errors.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { HttpListener } from "./http-listener.js";
import type { PendingRequest } from "./pending-requests.js";
import type { HttpServerSourceOptions } from "./schema.js";

const RETRY_LATER = { "retry-after": "1" };

export function createHttpServerSource(listener: HttpListener, options: HttpServerSourceOptions, ctx: SourceContext): Source {
  const route = listener.addRoute(options.path ?? "/", options.max_pending ?? 100);
  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      try {
        for (;;) {
          // Not following (once / scheduled runs): take what is waiting now and end.
          const request = ctx.follow ? await route.requests.take(signal) : route.requests.shift();
          if (request === undefined) return;
          yield toBatch(request);
        }
      } finally {
        if (signal.aborted) listener.removeRoute(route);
      }
    },
    async close() {
      listener.removeRoute(route);
    },
  };
}

function toBatch(request: PendingRequest): Batch {
  return {
    messages: request.messages,
    async ack() {
      request.respond({ status: 200, body: { accepted: request.messages.length } });
    },
    async nack(reason: Error, requeue: boolean) {
      if (requeue || errorKind(reason) === "transient") {
        request.respond({ status: 503, body: { error: `not processed: ${errorMessage(reason)}; retry later` }, headers: RETRY_LATER });
      } else {
        request.respond({ status: 500, body: { error: `failed: ${errorMessage(reason)}` } });
      }
    },
  };
}
