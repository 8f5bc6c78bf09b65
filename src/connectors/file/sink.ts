import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { stringify } from "csv-stringify/sync";
import { permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { CsvSettings, FileFormat } from "./file-format.js";
import { parseCsvHeader, recordText } from "./record-decoder.js";
import { RecordReader } from "./record-reader.js";
import type { FileSinkOptions } from "./schema.js";

interface OpenTarget {
  handle: FileHandle;
  /** The file is empty: a CSV header is due. */
  empty: boolean;
  /** The file does not end with a newline: start the next write with one. */
  needsNewline: boolean;
}

/** Appends records; writes are serialised so batches written concurrently never interleave. */
export function createFileSink(file: string, format: FileFormat, options: FileSinkOptions, ctx: SinkContext): Sink {
  const fsync = options.fsync ?? true;
  let target: OpenTarget | undefined;
  let columns: string[] | undefined = format.kind === "csv" ? format.columns : undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let warnedExtraFields = false;

  async function openTarget(): Promise<OpenTarget> {
    if (target) return target;
    const handle = await open(file, "a+");
    try {
      const { size } = await handle.stat();
      let needsNewline = false;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        needsNewline = last[0] !== 0x0a;
        if (format.kind === "csv" && format.header && columns === undefined) {
          const header = await new RecordReader(handle, 0, "csv").next(true);
          if (header !== undefined) columns = parseCsvHeader(recordText(header), format.delimiter);
        }
      }
      target = { handle, empty: size === 0, needsNewline };
      return target;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  function encodeJson(messages: Message[], failures: MessageFailure[]): string[] {
    const lines: string[] = [];
    messages.forEach((message, index) => {
      try {
        const line = JSON.stringify(message.payload);
        if (line === undefined) throw new Error("payload is undefined");
        lines.push(line + "\n");
      } catch (error) {
        failures.push({ index, error: permanentError(`payload cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`, { code: "file.bad_payload" }) });
      }
    });
    return lines;
  }

  function encodeCsv(messages: Message[], csv: CsvSettings, failures: MessageFailure[]): { header?: string; rows: string } {
    const rows: string[][] = [];
    messages.forEach((message, index) => {
      const payload = message.payload;
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
        failures.push({ index, error: permanentError("payload must be a JSON object to become a CSV row; map it to an object with a transform", { code: "file.bad_payload" }) });
        return;
      }
      const record = payload as Record<string, unknown>;
      columns ??= Object.keys(record);
      if (!warnedExtraFields && Object.keys(record).some((field) => !(columns as string[]).includes(field))) {
        warnedExtraFields = true;
        ctx.logger.warn({ file, columns }, "payload fields that are not CSV columns are not written; set csv.columns to choose them");
      }
      rows.push((columns as string[]).map((column) => csvCell(record[column])));
    });
    const result: { header?: string; rows: string } = { rows: rows.length === 0 ? "" : stringify(rows, { delimiter: csv.delimiter, record_delimiter: "unix" }) };
    if (csv.header && columns !== undefined && rows.length > 0) result.header = stringify([columns], { delimiter: csv.delimiter, record_delimiter: "unix" });
    return result;
  }

  async function append(messages: Message[]): Promise<WriteOutcome> {
    let opened: OpenTarget;
    try {
      opened = await openTarget();
    } catch (error) {
      return failAll(messages, transientError(`cannot open ${file} for appending: ${error instanceof Error ? error.message : String(error)}`, { code: "file.unwritable", cause: error }));
    }
    const failures: MessageFailure[] = [];
    let text: string;
    if (format.kind === "jsonl") {
      text = encodeJson(messages, failures).join("");
    } else {
      const encoded = encodeCsv(messages, format, failures);
      text = (opened.empty && encoded.header !== undefined ? encoded.header : "") + encoded.rows;
    }
    if (text.length === 0) return { failures };
    if (opened.needsNewline) text = "\n" + text;
    try {
      await opened.handle.write(text);
      if (fsync) await opened.handle.datasync();
      opened.empty = false;
      opened.needsNewline = false;
    } catch (error) {
      // Reopen on the next write: the file may have been replaced, and a partial write may need a newline.
      target = undefined;
      await opened.handle.close().catch(() => undefined);
      const failure = transientError(`writing ${file} failed: ${error instanceof Error ? error.message : String(error)}`, { code: "file.write_failed", cause: error });
      const failed = new Set(failures.map((f) => f.index));
      messages.forEach((_, index) => {
        if (!failed.has(index)) failures.push({ index, error: failure });
      });
      failures.sort((a, b) => a.index - b.index);
    }
    return { failures };
  }

  return {
    write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
      const result = queue.then(() => (signal.aborted ? failAll(messages, transientError("file write cancelled by shutdown", { code: "file.aborted" })) : append(messages)));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      const opened = target;
      target = undefined;
      await opened?.handle.close();
    },
  };
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
