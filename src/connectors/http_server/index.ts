import { configError } from "../../core/errors.js";
import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { sizeBytes } from "../shared/config-fields.js";
import { HttpListener } from "./http-listener.js";
import { parseListenAddress } from "./listen-address.js";
import { HttpServerConnectionSchema, HttpServerSourceSchema } from "./schema.js";
import type { HttpServerConnectionConfig } from "./schema.js";
import { createHttpServerSource } from "./source.js";

const EXAMPLE = `# connections:
inbound:
  type: http_server
  listen: "0.0.0.0:8080"      # port 0 picks a free port (see /health)
  max_body: 1mb               # larger bodies get 413

# integrations.<name>.source — POST JSON here; the response waits for the write:
#   source:
#     connection: inbound
#     path: /events           # 404 elsewhere, 405 for other methods
#     max_pending: 100        # beyond this: 503 + Retry-After
#   sync: { trigger: continuous }
`;

export const httpServerConnector = {
  type: "http_server",
  summary: "Inbound HTTP endpoint: each JSON POST becomes a batch, answered 200 only after it is written (503 to retry, 500 on permanent failure).",
  config: HttpServerConnectionSchema,
  source: HttpServerSourceSchema,
  example: EXAMPLE,
  check: { config: checkConfig },
  async connect(config, ctx) {
    const address = parseListenAddress(config.listen);
    if (address === undefined) throw configError(`http_server listen ${JSON.stringify(config.listen)}: expected "host:port", e.g. "127.0.0.1:8080"`, { code: "config.http_server_listen" });
    const listener = await HttpListener.start(address, sizeBytes(config.max_body, 1024 * 1024), ctx.logger);
    const onShutdown = (): void => void listener.close();
    ctx.signal.addEventListener("abort", onShutdown, { once: true });
    return {
      async health(_signal: AbortSignal) {
        return listener.listening
          ? { status: "healthy" as const, latencyMs: 0, detail: `listening on ${listener.url} (${listener.pending} requests pending)` }
          : { status: "unhealthy" as const, latencyMs: 0, detail: "not listening (closed)" };
      },
      source: (options, sourceCtx) => createHttpServerSource(listener, options, sourceCtx),
      async close() {
        ctx.signal.removeEventListener("abort", onShutdown);
        await listener.close();
      },
    };
  },
} satisfies ConnectorSpec<typeof HttpServerConnectionSchema, typeof HttpServerSourceSchema>;

function checkConfig(config: HttpServerConnectionConfig): ConfigIssue[] {
  return parseListenAddress(config.listen) === undefined ? [{ path: ["listen"], message: 'expected "host:port", e.g. "127.0.0.1:8080" or "[::1]:8080"' }] : [];
}
