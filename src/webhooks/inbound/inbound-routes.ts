import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { InboundReceiver, InboundResponse } from "./inbound-receiver.js";

/**
 * Registers each receiver's path on a fastify instance (the admin server or the webhooks'
 * own listener), in its own encapsulated scope: every content type is read as raw bytes —
 * signatures are over the bytes as sent, so nothing may parse and re-serialise them first —
 * up to the endpoint's `max_body` (413 beyond).
 */
export async function registerInboundRoutes(app: FastifyInstance, receivers: readonly InboundReceiver[], isClosing: () => boolean): Promise<void> {
  for (const receiver of receivers) {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: receiver.endpoint.maxBodyBytes }, (_request, body, done) => done(null, body));
      scope.post(receiver.endpoint.path, async (request: FastifyRequest, reply: FastifyReply) => {
        if (isClosing()) return send(reply, { status: 503, body: { error: "shutting down; retry later" }, headers: { "retry-after": "5" } });
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return send(reply, await receiver.receive(body, request.headers, request.headers["content-type"]));
      });
      scope.route({
        method: ["GET", "PUT", "PATCH", "DELETE"],
        url: receiver.endpoint.path,
        handler: async (_request, reply) => send(reply.header("allow", "POST"), { status: 405, body: { error: `send webhooks to ${receiver.endpoint.path} with POST` } }),
      });
    });
  }
}

function send(reply: FastifyReply, response: InboundResponse): FastifyReply {
  if (response.headers) reply.headers(response.headers);
  return reply.code(response.status).type("application/json; charset=utf-8").send(JSON.stringify(response.body));
}
