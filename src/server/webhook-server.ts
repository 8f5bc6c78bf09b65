import Fastify from "fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { errorMessage } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import { correlationIdFrom } from "../observability/tracing.js";
import type { AdminServer } from "./admin-server.js";
import { startListening } from "./start-listening.js";

export interface WebhookServerOptions {
  /** "host:port" (`webhooks.listen`). */
  listen: string;
  logger: Logger;
  metrics: JunctionMetrics;
  routes: (app: FastifyInstance) => Promise<void>;
}

/**
 * A listener that serves only the inbound webhook routes, for when they must be reachable
 * from the internet while /health, /metrics and /api stay on a private address.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<AdminServer> {
  const { logger, metrics } = options;
  const app = Fastify({ logger: false, requestIdHeader: false, genReqId: (request) => correlationIdFrom(request.headers) ?? newId() });
  const sendJson = (reply: FastifyReply, status: number, body: unknown): FastifyReply => reply.code(status).type("application/json; charset=utf-8").send(JSON.stringify(body));

  app.addHook("onResponse", async (request, reply) => {
    metrics.httpRequestsTotal.inc({ route: request.routeOptions.url ?? "unmatched", method: request.method, status: String(reply.statusCode) });
  });
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) return sendJson(reply, statusCode, { error: errorMessage(error) });
    logger.error({ err: error, correlation_id: request.id, url: request.url }, "webhook request failed");
    return sendJson(reply, 500, { error: `Internal error; see the logs for correlation id ${request.id}.` });
  });
  app.setNotFoundHandler((request, reply) => sendJson(reply, 404, { error: `No webhook endpoint at ${request.url.split("?")[0]}.` }));

  return startListening(app, options.listen, "webhooks.listen", "webhook listener", options.routes);
}
