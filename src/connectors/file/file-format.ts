import { extname } from "node:path";
import type { FileConnectionConfig } from "./schema.js";

export interface CsvSettings {
  delimiter: string;
  header: boolean;
  columns?: string[];
}

export type FileFormat = { kind: "jsonl" } | ({ kind: "csv" } & CsvSettings);

const EXTENSIONS: Record<string, "jsonl" | "csv"> = { ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv" };

/** The format from config or the file extension; undefined when neither says. */
export function resolveFileFormat(config: FileConnectionConfig): FileFormat | undefined {
  const extension = extname(config.path).toLowerCase();
  const kind = config.format ?? EXTENSIONS[extension];
  if (kind === undefined) return undefined;
  if (kind === "jsonl") return { kind };
  const settings: FileFormat = {
    kind,
    delimiter: config.csv?.delimiter ?? (extension === ".tsv" ? "\t" : ","),
    header: config.csv?.header ?? true,
  };
  if (config.csv?.columns !== undefined) settings.columns = config.csv.columns;
  return settings;
}
