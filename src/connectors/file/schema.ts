import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";

export const FileCsvSchema = Type.Object(
  {
    delimiter: Type.Optional(Type.String({ minLength: 1, description: 'Field delimiter. Default "," (tab for .tsv files).' })),
    header: Type.Optional(
      Type.Boolean({ description: "The first record is a header naming the columns; a target writes it once when the file is new or empty.", default: true }),
    ),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1, description: "Column name." }), {
        minItems: 1,
        description: "Column names (and order, for a target). Overrides the header; required when header is false.",
      }),
    ),
  },
  { additionalProperties: false, description: "CSV options (RFC 4180 quoting, fields may contain newlines inside quotes)." },
);

export const FileConnectionSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "File to read or append to. Relative paths resolve against the directory of the config file." }),
    format: Type.Optional(
      Type.Union([Type.Literal("jsonl"), Type.Literal("csv")], {
        description: "jsonl: one JSON value per line. csv: comma-separated rows. Default: from the extension (.jsonl, .ndjson, .json → jsonl; .csv, .tsv → csv).",
      }),
    ),
    csv: Type.Optional(FileCsvSchema),
  },
  { additionalProperties: false, description: "A local JSON Lines or CSV file." },
);

export const FileSourceSchema = Type.Object(
  {
    batch_size: Type.Optional(batchSizeField()),
    poll_interval: Type.Optional(durationField("With a continuous trigger, how often to look for appended data once caught up.", "1s")),
    key: Type.Optional(Type.String({ minLength: 1, description: "Payload field used as the message key (optional)." })),
  },
  {
    additionalProperties: false,
    description:
      "Streams records from the file, resumable by byte offset: the checkpoint is the end of the last acked record. With a continuous trigger it follows appended data and restarts from the beginning when the file is truncated or replaced.",
  },
);

export const FileSinkSchema = Type.Object(
  {
    fsync: Type.Optional(
      Type.Boolean({
        description: "Flush to disk (fdatasync) after each batch before reporting it written, so acked data survives a power loss. Default true.",
        default: true,
      }),
    ),
  },
  { additionalProperties: false, description: "Appends one JSON line or CSV row per message." },
);

export type FileConnectionConfig = Static<typeof FileConnectionSchema>;
export type FileSourceOptions = Static<typeof FileSourceSchema>;
export type FileSinkOptions = Static<typeof FileSinkSchema>;
