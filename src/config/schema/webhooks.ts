import { Type } from "@sinclair/typebox";
import { durationSchema } from "./units.js";
import { inboundWebhookSchema } from "./webhooks-inbound.js";
import { outboundWebhookSchema } from "./webhooks-outbound.js";

export const webhooksSchema = Type.Object(
  {
    listen: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Own "host:port" for the inbound webhook endpoints, e.g. "0.0.0.0:8080". Default: they are served by the admin server (admin.listen).',
      }),
    ),
    delivery_retention: Type.Optional(
      durationSchema({ description: "Delivered and failed outbound deliveries (with their attempt log) are removed this long after they were created. Default 30d." }),
    ),
    inbound: Type.Optional(Type.Object({}, { additionalProperties: inboundWebhookSchema, description: "Named endpoints that receive verified webhooks from senders such as Stripe or GitHub." })),
    outbound: Type.Optional(Type.Object({}, { additionalProperties: outboundWebhookSchema, description: "Named senders of signed webhooks to your customers' endpoints." })),
  },
  { additionalProperties: false, description: "Inbound webhook endpoints and outbound webhook delivery." },
);
