import type { FileHandle } from "node:fs/promises";
import { permanentError } from "../../core/errors.js";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;
const CHUNK_BYTES = 64 * 1024;
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** One record's bytes (without its terminator) and where it sits in the file. */
export interface RawRecord {
  bytes: Buffer;
  /** Byte offset of the first byte of the record. */
  start: number;
  /** Byte offset just after the record and its newline. */
  end: number;
  /** Newlines consumed by the record (a CSV record may span lines). */
  newlines: number;
}

/**
 * Reads newline-terminated records from a file handle starting at a byte offset, one
 * chunk at a time, so memory stays bounded by the chunk size plus the longest record.
 * "csv" splitting ignores newlines inside double-quoted fields (RFC 4180 quoting keeps
 * quotes balanced, escaped quotes included).
 */
export class RecordReader {
  readonly #handle: FileHandle;
  readonly #csv: boolean;
  #readPosition: number;
  #buffer: Buffer = Buffer.alloc(0);
  #bufferStart: number;
  #scanned = 0;
  #inQuotes = false;
  #newlines = 0;

  constructor(handle: FileHandle, offset: number, split: "line" | "csv") {
    this.#handle = handle;
    this.#csv = split === "csv";
    this.#readPosition = offset;
    this.#bufferStart = offset;
  }

  /** Offset after the last record returned. */
  get position(): number {
    return this.#bufferStart;
  }

  /** Bytes read from the file so far (ahead of `position` by a partial record). */
  get readPosition(): number {
    return this.#readPosition;
  }

  /**
   * The next complete record, or undefined when none is complete yet. With `final` an
   * unterminated rest at end of file counts as a record (the file is not being appended to).
   */
  async next(final: boolean): Promise<RawRecord | undefined> {
    for (;;) {
      const end = this.#findTerminator();
      if (end !== -1) return this.#take(end, end + 1);
      const read = await this.#fill();
      if (read === 0) {
        if (final && this.#buffer.length > 0) return this.#take(this.#buffer.length, this.#buffer.length);
        return undefined;
      }
    }
  }

  #findTerminator(): number {
    const buffer = this.#buffer;
    if (!this.#csv) {
      const at = buffer.indexOf(NEWLINE, this.#scanned);
      this.#scanned = at === -1 ? buffer.length : at;
      if (at !== -1) this.#newlines = 1;
      return at;
    }
    for (let i = this.#scanned; i < buffer.length; i++) {
      const byte = buffer[i];
      if (byte === QUOTE) this.#inQuotes = !this.#inQuotes;
      else if (byte === NEWLINE) {
        this.#newlines += 1;
        if (!this.#inQuotes) {
          this.#scanned = i;
          return i;
        }
      }
    }
    this.#scanned = buffer.length;
    return -1;
  }

  #take(contentEnd: number, consumed: number): RawRecord {
    let bytes = this.#buffer.subarray(0, contentEnd);
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN && consumed > contentEnd) bytes = bytes.subarray(0, bytes.length - 1);
    const record: RawRecord = { bytes, start: this.#bufferStart, end: this.#bufferStart + consumed, newlines: this.#newlines };
    this.#buffer = this.#buffer.subarray(consumed);
    this.#bufferStart += consumed;
    this.#scanned = 0;
    this.#inQuotes = false;
    this.#newlines = 0;
    return record;
  }

  async #fill(): Promise<number> {
    if (this.#buffer.length >= MAX_RECORD_BYTES) {
      throw permanentError(`record at byte ${this.#bufferStart} is longer than ${MAX_RECORD_BYTES} bytes; is the file really ${this.#csv ? "CSV (unbalanced quote?)" : "JSON Lines"}?`, {
        code: "file.record_too_long",
      });
    }
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await this.#handle.read(chunk, 0, CHUNK_BYTES, this.#readPosition);
    if (bytesRead === 0) return 0;
    this.#readPosition += bytesRead;
    this.#buffer = this.#buffer.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([this.#buffer, chunk.subarray(0, bytesRead)]);
    return bytesRead;
  }
}
