import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";

export const StdoutConnectionSchema = Type.Object({}, { additionalProperties: false, description: "The process's standard output or error stream. No options." });

export const StdoutSinkSchema = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal("json"), Type.Literal("pretty")], {
        description: "json: one compact JSON line per message. pretty: indented JSON, for reading. Default json.",
        default: "json",
      }),
    ),
    stream: Type.Optional(
      Type.Union([Type.Literal("stdout"), Type.Literal("stderr")], { description: "Which stream to write to. Default stdout.", default: "stdout" }),
    ),
  },
  { additionalProperties: false, description: "Writes each message payload as JSON." },
);

export type StdoutSinkOptions = Static<typeof StdoutSinkSchema>;
