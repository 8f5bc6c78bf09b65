import { Type } from "@sinclair/typebox";
import { durationSchema, sizeSchema } from "./units.js";

export const INBOUND_VERIFIER_TYPES = ["standard", "stripe", "github", "hmac"] as const;

const secretSchema = Type.String({ minLength: 1, secret: true, description: "A signing secret. Redacted." });

export const inboundVerifierSchema = Type.Object(
  {
    type: Type.Union(
      INBOUND_VERIFIER_TYPES.map((type) => Type.Literal(type)),
      {
        description:
          "standard: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; whsec_ secrets or whpk_ public keys). stripe: Stripe-Signature. github: X-Hub-Signature-256. hmac: an HMAC in a header you name.",
      },
    ),
    secret: Type.Optional(secretSchema),
    secrets: Type.Optional(
      Type.Array(secretSchema, { minItems: 1, description: "Several secrets during a rotation: a request signed with any of them is accepted. Redacted." }),
    ),
    tolerance: Type.Optional(durationSchema({ description: "Accepted clock difference either way for signed timestamps (standard, stripe, hmac with timestamp_header). Default 5m." })),
    header: Type.Optional(Type.String({ minLength: 1, description: "hmac: the header carrying the signature, e.g. X-Signature." })),
    algorithm: Type.Optional(Type.Union([Type.Literal("sha256"), Type.Literal("sha512"), Type.Literal("sha1")], { description: "hmac: the hash. Default sha256." })),
    encoding: Type.Optional(Type.Union([Type.Literal("hex"), Type.Literal("base64"), Type.Literal("base64url")], { description: "hmac: how the signature is written. Default hex." })),
    prefix: Type.Optional(Type.String({ description: 'hmac: text before the signature in the header, e.g. "sha256=". Default none.' })),
    secret_encoding: Type.Optional(Type.Union([Type.Literal("utf8"), Type.Literal("base64"), Type.Literal("hex")], { description: "hmac: how the secrets are written. Default utf8 (as-is)." })),
    timestamp_header: Type.Optional(Type.String({ minLength: 1, description: "hmac: a header with a unix-seconds timestamp, enforced within `tolerance`." })),
    id_header: Type.Optional(Type.String({ minLength: 1, description: "hmac: a header with the delivery id (replay protection)." })),
    signed_content: Type.Optional(Type.String({ minLength: 1, description: "hmac: what is signed, with {body}, {timestamp} and {id} parts. Default {timestamp}.{body} with a timestamp header, else {body}." })),
  },
  { additionalProperties: false, description: "How requests are authenticated: the signature over the raw body bytes, compared in constant time." },
);

export const inboundWebhookSchema = Type.Object(
  {
    path: Type.String({ pattern: "^/", description: "URL path that accepts the sender's POST requests, e.g. /webhooks/stripe." }),
    verifier: inboundVerifierSchema,
    event_type: Type.Optional(
      Type.String({
        minLength: 1,
        description: "JSONata over the JSON body giving the event type used for routing; `$headers` holds the request headers (lower-case). Default: `type` (github: `$headers.'x-github-event'`).",
      }),
    ),
    event_id: Type.Optional(
      Type.String({
        minLength: 1,
        description: "JSONata over the JSON body giving the event id, when the signature scheme carries none (stripe default: `id`). Without either, the SHA-256 of the body is the id.",
      }),
    ),
    max_body: Type.Optional(sizeSchema({ description: "Largest accepted body; larger requests get 413. Default 1mb." })),
    dedup_ttl: Type.Optional(durationSchema({ description: "How long an accepted event id is remembered: the same id again within it is answered 200 and stored nothing (replay protection). Default 7d." })),
  },
  { additionalProperties: false, description: "A verified inbound webhook endpoint; integrations read its events with `source: { webhook: <name> }`." },
);

export const webhookSourceSchema = Type.Object(
  {
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Event types this integration receives; "*" matches any run of characters, e.g. "invoice.*". Default: every event.',
      }),
    ),
    lease: Type.Optional(durationSchema({ description: "How long an event taken for processing stays hidden from other instances. Default 5m." })),
    poll_interval: Type.Optional(durationSchema({ description: "How often the inbox is checked for events accepted by other instances. Default 1s." })),
  },
  { additionalProperties: false, description: "An integration source reading the events of a `webhooks.inbound` endpoint." },
);
