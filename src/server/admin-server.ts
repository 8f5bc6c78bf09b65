import Fastify from "fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { JunctionError, errorMessage } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { SecretRedactor } from "../core/redact.js";
import { failingRequiredChecks } from "../observability/health.js";
import type { HealthRegistry } from "../observability/health.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import { correlationIdFrom } from "../observability/tracing.js";
import type { DeadLetterFilter, DeadLetterStatus, RunFilter, RunStatus, StateStore } from "../state/types.js";
import { toJsonValue } from "./json-value.js";
import { startListening } from "./start-listening.js";
import { BAD_QUERY_PARAMETER, QueryParameters } from "./query-parameters.js";

export interface AdminServerOptions {
  /** "host:port"; port 0 picks a free port (see `url`). */
  listen: string;
  health: HealthRegistry;
  metrics: JunctionMetrics;
  state: StateStore;
  logger: Logger;
  redactor: SecretRedactor;
  version: string;
  /**
   * Adds more routes (webhook receivers, gateway routes) before the server starts listening;
   * fastify accepts no new routes once it listens.
   */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface AdminServer {
  /** Base URL with the port actually bound, e.g. "http://127.0.0.1:9464". */
  url: string;
  /** The underlying fastify instance, for the webhook and gateway routes hosted on the same port. */
  app: FastifyInstance;
  close(): Promise<void>;
}

const RUN_STATUSES: readonly RunStatus[] = ["running", "succeeded", "failed", "partial", "interrupted"];
const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ["pending", "replayed"];
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 50;

/** Starts the admin HTTP server: /health, /ready, /metrics and the read-only /api. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { health, metrics, state, logger, redactor, version } = options;
  const app = Fastify({
    logger: false,
    requestIdHeader: false,
    genReqId: (request) => correlationIdFrom(request.headers) ?? newId(),
  });

  /** Every JSON body: dates as ISO strings, known secrets replaced. */
  const sendJson = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply.code(status).type("application/json; charset=utf-8").send(redactor.redactValue(toJsonValue(body)));

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-correlation-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequestsTotal.inc({ route, method: request.method, status: String(reply.statusCode) });
    logger.debug(
      { correlation_id: request.id, method: request.method, route, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 100) / 100 },
      "admin request",
    );
  });

  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof JunctionError && error.code === BAD_QUERY_PARAMETER) {
      return sendJson(reply, 400, { error: error.message, parameter: error.context.parameter });
    }
    const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
      return sendJson(reply, statusCode, { error: errorMessage(error) });
    }
    logger.error({ err: error, correlation_id: request.id, method: request.method, url: request.url }, "admin request failed");
    return sendJson(reply, 500, { error: `Internal error: ${errorMessage(error)}. See the logs for correlation id ${request.id}.` });
  });

  app.setNotFoundHandler((request, reply) =>
    sendJson(reply, 404, {
      error: `No route for ${request.method} ${request.url.split("?")[0]}. Routes: /health, /ready, /metrics, /api/runs, /api/dead-letters.`,
    }),
  );

  app.get("/", async (_request, reply) =>
    sendJson(reply, 200, { name: "junction", version, endpoints: ["/health", "/ready", "/metrics", "/api/runs", "/api/dead-letters"] }),
  );

  app.get("/health", async (_request, reply) => {
    const report = await health.check();
    return sendJson(reply, report.status === "unhealthy" ? 503 : 200, report);
  });

  app.get("/ready", async (_request, reply) => {
    const report = await health.check();
    const failing = failingRequiredChecks(report);
    if (failing.length === 0) return sendJson(reply, 200, { ready: true });
    const checks = Object.fromEntries(failing.map((name) => [name, report.checks[name]]));
    return sendJson(reply, 503, { ready: false, failing, checks });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.metrics();
    return reply.code(200).type(metrics.contentType).send(text);
  });

  app.get("/api/runs", async (request, reply) => {
    const query = new QueryParameters(request.query, ["integration", "status", "limit"]);
    const filter: RunFilter = { limit: query.integer("limit", { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT }) };
    const integration = query.string("integration");
    const status = query.oneOf("status", RUN_STATUSES);
    if (integration !== undefined) filter.integration = integration;
    if (status !== undefined) filter.status = status;
    const runs = await state.listRuns(filter);
    return sendJson(reply, 200, { runs });
  });

  app.get<{ Params: { id: string } }>("/api/runs/:id", async (request, reply) => {
    const run = await state.getRun(request.params.id);
    if (run === undefined) return sendJson(reply, 404, { error: `No run with id "${request.params.id}". List runs with GET /api/runs.` });
    return sendJson(reply, 200, run);
  });

  app.get("/api/dead-letters", async (request, reply) => {
    const query = new QueryParameters(request.query, ["integration", "status", "limit", "offset"]);
    const filter: DeadLetterFilter = {};
    const integration = query.string("integration");
    const status = query.oneOf("status", DEAD_LETTER_STATUSES);
    const limit = query.integer("limit", { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT });
    const offset = query.integer("offset", { min: 0, max: Number.MAX_SAFE_INTEGER, default: 0 });
    if (integration !== undefined) filter.integration = integration;
    if (status !== undefined) filter.status = status;
    const [deadLetters, total] = await Promise.all([state.listDeadLetters({ ...filter, limit, offset }), state.countDeadLetters(filter)]);
    return sendJson(reply, 200, { deadLetters, total, limit, offset });
  });

  app.get<{ Params: { id: string } }>("/api/dead-letters/:id", async (request, reply) => {
    const deadLetter = await state.getDeadLetter(request.params.id);
    if (deadLetter === undefined) {
      return sendJson(reply, 404, { error: `No dead letter with id "${request.params.id}". List them with GET /api/dead-letters.` });
    }
    return sendJson(reply, 200, deadLetter);
  });

  return startListening(app, options.listen, "admin.listen", "admin server", options.routes);
}
