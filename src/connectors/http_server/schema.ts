import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { sizeField } from "../shared/config-fields.js";

export const HttpServerConnectionSchema = Type.Object(
  {
    listen: Type.String({
      minLength: 1,
      description: 'Address to listen on, "host:port" (e.g. "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080"). Port 0 picks a free port, shown in the health detail.',
    }),
    max_body: Type.Optional(sizeField("Largest accepted request body; larger requests get 413.", "1mb")),
  },
  { additionalProperties: false, description: "An inbound HTTP listener: clients POST JSON that becomes messages." },
);

export const HttpServerSourceSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ pattern: "^/", description: 'URL path that accepts POST requests. Default "/".', default: "/" })),
    max_pending: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "Requests accepted but not yet answered; beyond this new requests get 503 with Retry-After (backpressure). Default 100.",
        default: 100,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Each POST with a JSON body (an object: one message; an array: one message per item) is one batch. The response waits until the batch is settled: 200 once written, 503 + Retry-After when it should be retried, 500 when it failed permanently.",
  },
);

export type HttpServerConnectionConfig = Static<typeof HttpServerConnectionSchema>;
export type HttpServerSourceOptions = Static<typeof HttpServerSourceSchema>;
