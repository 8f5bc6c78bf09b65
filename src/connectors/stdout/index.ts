import type { ConnectorSpec, RuntimeContext } from "../types.js";
import { StdoutConnectionSchema, StdoutSinkSchema } from "./schema.js";
import { createStreamSink } from "./sink.js";

const EXAMPLE = `# connections:
console:
  type: stdout

# integrations.<name>.target — one JSON line per message:
#   target:
#     connection: console
#     format: json           # json | pretty
#     stream: stdout         # stdout | stderr
`;

export const stdoutConnector = {
  type: "stdout",
  summary: "Writes each message payload as a JSON line to standard output (or error); for demos, debugging and piping.",
  config: StdoutConnectionSchema,
  sink: StdoutSinkSchema,
  example: EXAMPLE,
  async connect(_config: Record<string, never>, _ctx: RuntimeContext) {
    return {
      async health(_signal: AbortSignal) {
        return { status: "healthy" as const, latencyMs: 0, detail: "writes to the process's output streams" };
      },
      sink: (options) => createStreamSink(options.stream === "stderr" ? process.stderr : process.stdout, options),
      async close() {},
    };
  },
} satisfies ConnectorSpec<typeof StdoutConnectionSchema, never, typeof StdoutSinkSchema>;
