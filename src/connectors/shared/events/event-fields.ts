import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";

export const bodyFormatField = Type.Union([Type.Literal("json"), Type.Literal("text")], {
  description: "How message bodies are read and written: json (default) or text (UTF-8, the payload is a string).",
});

export const cloudEventsField = Type.Object(
  {
    mode: Type.Union([Type.Literal("structured"), Type.Literal("binary")], {
      description: "structured: one JSON body with the attributes and `data` (application/cloudevents+json). binary: the body is the data, the attributes travel as headers.",
    }),
    source: Type.Optional(Type.String({ minLength: 1, description: "The `source` attribute. Default junction/<integration>." })),
    type: Type.Optional(Type.String({ minLength: 1, description: 'The `type` attribute. Default "junction.message".' })),
  },
  { additionalProperties: false, description: "Wrap published messages in a CloudEvents 1.0 envelope (id = the message id). Sources unwrap CloudEvents they receive on their own." },
);

export type CloudEventsField = Static<typeof cloudEventsField>;

export const keyField = Type.String({
  minLength: 1,
  description:
    "Template of each message's key, e.g. `{{ order_id }}`: messages with the same key are never processed concurrently and keep their order (within in-process retries), and key-based targets use it. Default: none.",
});
