import { Type } from "@sinclair/typebox";
import { durationSchema } from "./units.js";

const secretSchema = (description: string) => Type.String({ minLength: 1, secret: true, description });

export const outboundThrottleSchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, description: "Attempts allowed per `per` (a token bucket: up to `limit` at once after a quiet spell)." }),
    per: Type.Optional(durationSchema({ description: "The period `limit` counts over. Default 1s." })),
  },
  { additionalProperties: false, description: "Caps the delivery attempts sent to this endpoint." },
);

export const outboundEndpointSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, description: "http:// or https:// URL the events are POSTed to. No credentials in it: the signature authenticates the sender." }),
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Event types this endpoint receives: exact names ("invoice.paid") or patterns where `*` matches any run of characters ("order.*"). Default: every event.',
      }),
    ),
    secret: Type.Optional(secretSchema("Signing key: whsec_… signs `v1` (HMAC-SHA256), whsk_… signs `v1a` (ed25519). Redacted like a password.")),
    secrets: Type.Optional(
      Type.Array(secretSchema("A signing key (whsec_… or whsk_…)."), {
        minItems: 1,
        description: "Several signing keys during a rotation: every request carries one signature per key. Use either `secret` or `secrets`.",
      }),
    ),
    throttle: Type.Optional(outboundThrottleSchema),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: "Requests to this endpoint at the same time. Default 4." })),
    headers: Type.Optional(Type.Object({}, { additionalProperties: Type.String(), description: "Extra request headers. The webhook-*, content-type and user-agent headers cannot be replaced." })),
  },
  { additionalProperties: false },
);

/** One `webhooks.outbound.<name>` entry: the events an integration writes to it go to each subscribed endpoint, signed, with retries. */
export const outboundWebhookSchema = Type.Object(
  {
    event_type: Type.Optional(Type.String({ minLength: 1, description: "JSONata over the message payload giving the event type (a string). Default `type`." })),
    payload: Type.Optional(Type.String({ minLength: 1, description: 'JSONata giving the JSON body sent. Default "$": the payload itself.' })),
    schedule: Type.Optional(
      Type.Array(durationSchema(), {
        minItems: 1,
        maxItems: 50,
        description:
          "Delay before each attempt, counted from the previous failure; its length is the number of attempts. Each delay varies by ±20 % (jitter), and a Retry-After answer can move it later. Default [0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h].",
      }),
    ),
    disable_after: Type.Optional(durationSchema({ description: "An endpoint whose attempts have all failed for this long is disabled (and an event raised). Default 5d." })),
    timeout: Type.Optional(durationSchema({ description: "Time limit of one attempt (connect, send, answer). Default 15s." })),
    allow_private: Type.Optional(
      Type.Boolean({ description: "Allow endpoints on private, loopback and link-local addresses (checked after DNS resolution). Default false: such requests are refused." }),
    ),
    allow: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Addresses or CIDR ranges reachable even though they are not public, e.g. ["10.1.2.0/24", "fd00::/8"].' }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: "Requests in flight at the same time over all endpoints of this entry. Default 32." })),
    endpoints: Type.Object({}, { additionalProperties: outboundEndpointSchema, minProperties: 1, description: "Named receivers of the events." }),
  },
  { additionalProperties: false },
);

/** What a `target: { webhook: <name> }` may add besides `webhook`. */
export const outboundWebhookTargetSchema = Type.Object(
  {
    event_type: Type.Optional(Type.String({ minLength: 1, description: "JSONata giving the event type, replacing the entry's `event_type` for this integration." })),
  },
  { additionalProperties: false },
);
