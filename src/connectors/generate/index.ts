import type { ConfigIssue, ConnectorSpec, RuntimeContext } from "../types.js";
import { GenerateConnectionSchema, GenerateSourceSchema } from "./schema.js";
import type { GenerateSourceOptions } from "./schema.js";
import { templateIssues } from "./payload-template.js";
import { createGenerateSource } from "./source.js";

const EXAMPLE = `# connections:
synthetic:
  type: generate

# integrations.<name>.source — 10,000 templated messages:
#   source:
#     connection: synthetic
#     count: 10000
#     batch_size: 500
#     start: 1
#     payload:
#       order_id: "{{i}}"           # a number: the sequence
#       ref: "ord-{{i}}"            # text with the sequence in it
#       placed_at: "{{now}}"
#       trace: "{{uuid}}"
#     # interval: 100ms             # slow down between batches
#     # resume: true                # continue numbering from the checkpoint
`;

export const generateConnector = {
  type: "generate",
  summary: "Generates numbered, templated messages at full speed or on an interval: for tests, demos and benchmarks.",
  config: GenerateConnectionSchema,
  source: GenerateSourceSchema,
  example: EXAMPLE,
  check: { source: checkSource },
  async connect(_config: Record<string, never>, _ctx: RuntimeContext) {
    return {
      async health(_signal: AbortSignal) {
        return { status: "healthy" as const, latencyMs: 0, detail: "built-in generator" };
      },
      source: (options, sourceCtx) => createGenerateSource(options, sourceCtx),
      async close() {},
    };
  },
} satisfies ConnectorSpec<typeof GenerateConnectionSchema, typeof GenerateSourceSchema>;

function checkSource(options: GenerateSourceOptions): ConfigIssue[] {
  return options.payload === undefined ? [] : templateIssues(options.payload, ["payload"]);
}
