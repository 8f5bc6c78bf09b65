/**
 * Rows in COPY's text format (the default of `COPY … FROM STDIN`), encoded straight into
 * buffers: values separated by tabs, rows ended by a newline, SQL NULL as `\N`, and
 * backslash, newline, carriage return and tab escaped with a backslash. Unlike CSV, quotes
 * need no doubling, so JSON text goes through as it is, and nothing is quoted.
 *
 * This is the per-row path of every COPY the postgres target makes, so it allocates no
 * string per value (each is UTF-8-encoded into the current buffer) and checks for the four
 * escaped characters with one regular-expression test.
 */
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPED = /[\\\n\r\t]/g;
const ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const LETTER_N = 0x4e;

export function escapeCopyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (char) => ESCAPES[char] as string) : value;
}

/** Collects rows as COPY text in buffers of about `chunkBytes` (more for a single larger row). */
export class CopyTextBuffers {
  readonly #chunkBytes: number;
  readonly #chunks: Buffer[] = [];
  #buffer: Buffer;
  #used = 0;

  constructor(chunkBytes = 128 * 1024) {
    this.#chunkBytes = chunkBytes;
    this.#buffer = Buffer.allocUnsafe(chunkBytes);
  }

  addRow(values: ReadonlyArray<string | null>): void {
    for (let at = 0; at < values.length; at++) {
      const value = values[at] as string | null;
      if (value === null) {
        this.#room(3);
        if (at > 0) this.#buffer[this.#used++] = TAB;
        this.#buffer[this.#used++] = BACKSLASH;
        this.#buffer[this.#used++] = LETTER_N;
        continue;
      }
      const text = escapeCopyText(value);
      // UTF-8 takes at most 3 bytes per UTF-16 code unit; +1 for the separator.
      this.#room(text.length * 3 + 1);
      if (at > 0) this.#buffer[this.#used++] = TAB;
      this.#used += this.#buffer.write(text, this.#used, "utf8");
    }
    this.#room(1);
    this.#buffer[this.#used++] = NEWLINE;
  }

  /** The buffers written so far; the object is done with afterwards. */
  finish(): Buffer[] {
    if (this.#used > 0) this.#chunks.push(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
    return this.#chunks;
  }

  /** Makes sure `bytes` more fit in the current buffer, starting a new one when they do not. */
  #room(bytes: number): void {
    if (this.#used + bytes <= this.#buffer.length) return;
    if (this.#used > 0) this.#chunks.push(this.#buffer.subarray(0, this.#used));
    this.#buffer = Buffer.allocUnsafe(Math.max(this.#chunkBytes, bytes));
    this.#used = 0;
  }
}

/** The COPY text of `rows`, in buffers. */
export function copyTextChunks(rows: Iterable<ReadonlyArray<string | null>>, chunkBytes?: number): Buffer[] {
  const buffers = new CopyTextBuffers(chunkBytes);
  for (const values of rows) buffers.addRow(values);
  return buffers.finish();
}
