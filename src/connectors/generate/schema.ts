import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";

export const GenerateConnectionSchema = Type.Object({}, { additionalProperties: false, description: "A built-in generator of synthetic messages. No options." });

export const GenerateSourceSchema = Type.Object(
  {
    count: Type.Optional(
      Type.Integer({ minimum: 0, description: "How many messages to generate. Without it the source is unbounded, which needs a continuous trigger." }),
    ),
    batch_size: Type.Optional(batchSizeField()),
    interval: Type.Optional(durationField("Pause between batches (default: none, as fast as the pipeline takes them).")),
    payload: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'Template of each payload (a JSON object). Strings may contain {{i}} (sequence number), {{now}} (ISO time), {{uuid}} and {{random}} (0..1); a string that is only "{{i}}" or "{{random}}" becomes a number. Default: { id, name: "item-<i>", value, created_at }.',
      }),
    ),
    start: Type.Optional(Type.Integer({ description: "First sequence number. Default 1.", default: 1 })),
    resume: Type.Optional(
      Type.Boolean({ description: "Checkpoint the next sequence number after each acked batch and continue from it on the next run. Default false.", default: false }),
    ),
  },
  { additionalProperties: false, description: "Generates numbered messages (id generate:<i>, key <i>) for tests, demos and benchmarks." },
);

export type GenerateSourceOptions = Static<typeof GenerateSourceSchema>;
