import { Type } from "@sinclair/typebox";
import type { ConnectorSpec, RuntimeContext } from "../types.js";
import { ALL_WRITTEN } from "../types.js";

export const DiscardConnectionSchema = Type.Object({}, { additionalProperties: false, description: "A target that accepts and drops everything. No options." });
export const DiscardSinkSchema = Type.Object({}, { additionalProperties: false, description: "No options: every message is accepted and dropped." });

const EXAMPLE = `# connections:
nowhere:
  type: discard

# integrations.<name>.target — measure the pipeline without a real target:
#   target:
#     connection: nowhere
`;

export const discardConnector = {
  type: "discard",
  summary: "Accepts and drops every message (a null target for benchmarks and dry runs); counts what it received.",
  config: DiscardConnectionSchema,
  sink: DiscardSinkSchema,
  example: EXAMPLE,
  async connect(_config: Record<string, never>, _ctx: RuntimeContext) {
    let messages = 0;
    let batches = 0;
    return {
      async health(_signal: AbortSignal) {
        return { status: "healthy" as const, latencyMs: 0, detail: `discarded ${messages} messages in ${batches} batches` };
      },
      sink: () => ({
        async write(written) {
          messages += written.length;
          batches += 1;
          return ALL_WRITTEN;
        },
      }),
      async close() {},
    };
  },
} satisfies ConnectorSpec<typeof DiscardConnectionSchema, never, typeof DiscardSinkSchema>;
