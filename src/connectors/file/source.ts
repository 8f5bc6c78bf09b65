import { open, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { pause } from "../../core/abort.js";
import { configError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { FileFormat } from "./file-format.js";
import { decodeCsvRecords, decodeJsonLine, isBlank, parseCsvHeader, recordText } from "./record-decoder.js";
import type { DecodedRecord } from "./record-decoder.js";
import { RecordReader } from "./record-reader.js";
import type { FileSourceOptions } from "./schema.js";

/** The checkpoint: end of the last acked record, in bytes and in lines consumed. */
export interface FilePosition {
  offset: number;
  line: number;
}

const START: FilePosition = { offset: 0, line: 0 };

const HEAD_BYTES = 64;

interface OpenFile {
  handle: FileHandle;
  inode: number;
  /** The first bytes of the file, to notice a truncate-and-rewrite that a size check misses. */
  head: Buffer;
  reader: RecordReader;
  /** Lines consumed up to reader.position. */
  line: number;
  /** CSV column names; undefined until the header has been read. */
  columns?: string[];
  /** The next record read is the CSV header (reading from the start of a file with a header). */
  expectHeader: boolean;
}

interface PendingRecord {
  text: string;
  start: number;
  line: number;
  end: FilePosition;
}

export function createFileSource(file: string, format: FileFormat, options: FileSourceOptions, ctx: SourceContext): Source {
  const batchSize = options.batch_size ?? ctx.batchSize;
  const pollMs = durationMs(options.poll_interval, 1000);
  const name = basename(file);
  const logger = ctx.logger.child({ file });

  async function openAt(position: FilePosition): Promise<OpenFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return undefined;
      throw configError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}; check the path and its permissions`, { code: "file.unreadable", cause: error });
    }
    try {
      const info = await handle.stat();
      let start = position;
      if (start.offset > info.size) {
        logger.warn({ checkpoint: start.offset, size: info.size }, "file is shorter than the checkpoint (truncated or replaced); reading it from the start");
        start = START;
      }
      const opened: OpenFile = {
        handle,
        inode: info.ino,
        head: await readHead(handle),
        reader: new RecordReader(handle, start.offset, format.kind === "csv" ? "csv" : "line"),
        line: start.line,
        expectHeader: format.kind === "csv" && format.header && start.offset === 0,
      };
      if (format.kind === "csv") {
        if (format.columns !== undefined) opened.columns = format.columns;
        if (format.header && start.offset > 0 && opened.columns === undefined) {
          const header = await new RecordReader(handle, 0, "csv").next(true);
          if (header !== undefined) opened.columns = parseCsvHeader(recordText(header), format.delimiter);
        }
      }
      return opened;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Reads up to `batchSize` records; `end` is the position after everything consumed (blank lines and header included). */
  async function readRecords(current: OpenFile, final: boolean): Promise<{ records: PendingRecord[]; end: FilePosition }> {
    const records: PendingRecord[] = [];
    let end: FilePosition = { offset: current.reader.position, line: current.line };
    while (records.length < batchSize) {
      const raw = await current.reader.next(final);
      if (raw === undefined) break;
      const startLine = current.line + 1;
      current.line += raw.newlines;
      end = { offset: raw.end, line: current.line };
      const text = recordText(raw);
      if (isBlank(text)) continue;
      if (current.expectHeader) {
        current.expectHeader = false;
        if (current.columns === undefined && format.kind === "csv") current.columns = parseCsvHeader(text, format.delimiter);
        continue;
      }
      records.push({ text, start: raw.start, line: startLine, end });
    }
    return { records, end };
  }

  function decode(current: OpenFile, records: PendingRecord[]): DecodedRecord[] {
    if (format.kind === "jsonl") return records.map((record) => decodeJsonLine(record.text));
    const columns = current.columns;
    if (columns === undefined) {
      return records.map((record) => ({ payload: record.text, parseError: "CSV file has no header: set csv.columns or csv.header: true" }));
    }
    return decodeCsvRecords(
      records.map((record) => record.text),
      columns,
      format.delimiter,
    );
  }

  function toMessage(record: PendingRecord, decoded: DecodedRecord): Message {
    const id = `${name}:${record.start}`;
    const metadata: Record<string, unknown> = { file: name, offset: record.start, line: record.line };
    if (decoded.parseError !== undefined) metadata.parse_error = decoded.parseError;
    const message: Message = { id, payload: decoded.payload, headers: {}, metadata, correlationId: id, attempt: 1, position: record.end };
    if (options.key !== undefined && decoded.parseError === undefined && decoded.payload !== null && typeof decoded.payload === "object") {
      const value = (decoded.payload as Record<string, unknown>)[options.key];
      if (value !== undefined && value !== null) message.key = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    return message;
  }

  /** In follow mode, once caught up: true when the file was truncated or replaced and must be read from the start. */
  async function replacedOrTruncated(current: OpenFile): Promise<boolean> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return false; // rotated away and not recreated yet: keep the old handle until a new file appears
    }
    if (info.ino !== current.inode) {
      logger.info("file was replaced; reading the new file from the start");
      return true;
    }
    if (info.size < current.reader.readPosition) {
      logger.warn({ size: info.size, read: current.reader.readPosition }, "file was truncated; reading it again from the start");
      return true;
    }
    const head = await readHead(current.handle);
    if (!head.subarray(0, current.head.length).equals(current.head)) {
      logger.warn("file was truncated and rewritten; reading it again from the start");
      return true;
    }
    if (head.length > current.head.length) current.head = head;
    return false;
  }

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const ledger = new PositionLedger<FilePosition>(await loadCheckpoint(ctx), (position) => ctx.checkpoints.set(position));
      let current: OpenFile | undefined;
      let generation = ledger.generation;
      try {
        while (!signal.aborted) {
          if (current !== undefined && generation !== ledger.generation) {
            await current.handle.close();
            current = undefined;
          }
          generation = ledger.generation;
          if (current === undefined) {
            current = await openAt(ledger.reading);
            if (current === undefined) {
              if (!ctx.follow) {
                throw configError(`file not found: ${file}; check the path (relative paths resolve against the config file's directory)`, { code: "file.not_found" });
              }
              if (!(await pause(pollMs, signal))) return;
              continue;
            }
            ledger.skipTo({ offset: current.reader.position, line: current.line });
          }

          const { records, end } = await readRecords(current, !ctx.follow);
          if (records.length === 0) {
            ledger.skipTo(end);
            if (!ctx.follow) return;
            if (await replacedOrTruncated(current)) {
              await current.handle.close();
              current = undefined;
              ledger.skipTo(START);
              continue;
            }
            if (!(await pause(pollMs, signal))) return;
            continue;
          }
          const decoded = decode(current, records);
          const messages = records.map((record, index) => toMessage(record, decoded[index] as DecodedRecord));
          const settle = ledger.advance(end);
          yield { messages, ack: settle.ack, nack: async () => settle.nack() };
        }
      } finally {
        await current?.handle.close();
      }
    },
  };
}

async function loadCheckpoint(ctx: SourceContext): Promise<FilePosition> {
  const stored = await ctx.checkpoints.get();
  if (stored === undefined || stored === null) return START;
  const { offset, line } = stored as { offset?: unknown; line?: unknown };
  if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return { offset, line: typeof line === "number" ? line : 0 };
  ctx.logger.warn({ checkpoint: stored }, "file source: ignoring a checkpoint that is not { offset, line }; reading from the start");
  return START;
}

async function readHead(handle: FileHandle): Promise<Buffer> {
  const head = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
  return head.subarray(0, bytesRead);
}
