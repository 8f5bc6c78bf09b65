import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { configError } from "../../core/errors.js";
import type { HealthResult } from "../../core/health.js";
import type { ConfigIssue, ConnectorSpec, Sink } from "../types.js";
import { resolveFileFormat } from "./file-format.js";
import type { FileFormat } from "./file-format.js";
import { FileConnectionSchema, FileSinkSchema, FileSourceSchema } from "./schema.js";
import type { FileConnectionConfig } from "./schema.js";
import { createFileSink } from "./sink.js";
import { createFileSource } from "./source.js";

const EXAMPLE = `# connections:
orders_file:
  type: file
  path: ./data/orders.csv     # relative to this config file
  format: csv                 # jsonl | csv (default: from the extension)
  csv:
    delimiter: ","
    header: true              # first row names the columns

# integrations.<name>.source — resumes from the byte offset of the last acked record:
#   source:
#     connection: orders_file
#     batch_size: 1000
#     key: order_id
#     poll_interval: 1s       # continuous trigger: follow appended rows
#
# integrations.<name>.target — appends one line per message:
#   target:
#     connection: export_jsonl
#     fsync: true             # flush to disk before the batch counts as written
`;

export const fileConnector = {
  type: "file",
  summary: "Local JSON Lines or CSV file: streaming, offset-resumable source (with follow mode) and durable append sink.",
  config: FileConnectionSchema,
  source: FileSourceSchema,
  sink: FileSinkSchema,
  example: EXAMPLE,
  check: { config: checkConfig },
  async connect(config, ctx) {
    const file = resolve(ctx.baseDir, config.path);
    const format = resolveFileFormat(config);
    if (format === undefined) throw configError(`file ${config.path}: cannot tell the format from the extension; set format: jsonl or format: csv`, { code: "config.file_format" });
    const sinks = new Set<Sink>();
    return {
      health: (_signal: AbortSignal) => fileHealth(file),
      source: (options, sourceCtx) => createFileSource(file, format, options, sourceCtx),
      sink(options, sinkCtx) {
        const sink = createFileSink(file, format, options, sinkCtx);
        sinks.add(sink);
        return sink;
      },
      async close() {
        await Promise.all([...sinks].map((sink) => sink.close?.()));
        sinks.clear();
      },
    };
  },
} satisfies ConnectorSpec<typeof FileConnectionSchema, typeof FileSourceSchema, typeof FileSinkSchema>;

function checkConfig(config: FileConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const format: FileFormat | undefined = resolveFileFormat(config);
  if (format === undefined) issues.push({ path: ["format"], message: `cannot tell the format of ${config.path} from its extension; set format: jsonl or csv` });
  if (format?.kind === "csv" && !format.header && format.columns === undefined) {
    issues.push({ path: ["csv", "columns"], message: "csv.header is false: list the column names in csv.columns" });
  }
  if (format?.kind === "jsonl" && config.csv !== undefined) issues.push({ path: ["csv"], message: "csv options apply only to format: csv" });
  return issues;
}

async function fileHealth(file: string): Promise<HealthResult> {
  const started = performance.now();
  try {
    const info = await stat(file);
    if (!info.isFile()) return { status: "unhealthy", latencyMs: performance.now() - started, detail: `${file} is not a regular file` };
    return { status: "healthy", latencyMs: performance.now() - started, detail: `${file} (${info.size} bytes)` };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") {
      try {
        if ((await stat(dirname(file))).isDirectory()) {
          return { status: "healthy", latencyMs: performance.now() - started, detail: `${file} does not exist yet (a target creates it; a following source waits for it)` };
        }
      } catch {
        // fall through: the directory is missing too
      }
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: `directory ${dirname(file)} does not exist` };
    }
    return { status: "unhealthy", latencyMs: performance.now() - started, detail: error instanceof Error ? error.message : String(error) };
  }
}
