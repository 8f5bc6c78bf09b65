/**
 * Decodes `COPY … TO STDOUT` text output into payload objects and positions, the way
 * node-postgres turns DataRow messages into rows: every column's text goes through the
 * type parser node-postgres would use for its type (value-parsers.ts), so the values are
 * the same; only the transport differs. COPY writes each value with its type's output
 * function, as a text-format result does, tab-separated, one row a line, SQL NULL as
 * `\N`, and backslash, newline, carriage return, tab (and \b, \f, \v) escaped.
 *
 * Chunks are decoded a run of whole lines at a time (one UTF-8 decode per chunk instead of
 * one per value) and split with indexOf; a row with a backslash takes the unescaping path.
 */

type Row = Record<string, unknown>;
export type TextParser = (text: string) => unknown;

/** What a COPY page returns: the columns of the SELECT, the last `positionColumns` being the position copies. */
export interface CopyColumns {
  /** Names of the payload columns, in SELECT order. */
  names: readonly string[];
  /** The type parser of each payload column. */
  parsers: readonly TextParser[];
  /** Number of trailing `::text` position columns. */
  positionColumns: number;
}

/** Rows and their positions, as the source hands them out. */
export interface DecodedRows {
  rows: Row[];
  positions: string[][];
}

/** A line with another number of columns than described: the table changed since it was described. */
export class CopyColumnsChanged extends Error {
  constructor(expected: number, found: number) {
    super(`COPY returned rows of ${found} columns where ${expected} were described`);
    this.name = "CopyColumnsChanged";
  }
}

const TAB = "\t";
const NEWLINE = 0x0a;
const BACKSLASH = "\\";

export class CopyTextRowDecoder {
  readonly #columns: CopyColumns;
  readonly #width: number;
  /** Every payload starts as a copy of one template, so all share one shape (as node-postgres' rows do). */
  readonly #template: Row;
  readonly #rows: Row[] = [];
  readonly #positions: string[][] = [];
  /** Bytes of an unfinished line, kept for the next chunk. */
  #rest: Buffer | undefined;
  /** The first decoding failure; later chunks are skipped (see `push`). */
  #failure: unknown;
  #failed = false;

  constructor(columns: CopyColumns) {
    this.#columns = columns;
    this.#width = columns.names.length + columns.positionColumns;
    const template: Row = Object.create(null) as Row;
    for (const name of columns.names) template[name] = null;
    this.#template = { ...template };
  }

  /**
   * Decodes the whole lines of `chunk`. Never throws: a failure is kept for `end()` and the
   * rest of the output is skipped, so that the caller still reads the COPY to its end and
   * the connection is left ready for its next query.
   */
  push(chunk: Buffer): void {
    if (this.#failed) return;
    try {
      this.#push(chunk);
    } catch (error) {
      this.#failed = true;
      this.#failure = error;
    }
  }

  #push(chunk: Buffer): void {
    const data = this.#rest === undefined ? chunk : Buffer.concat([this.#rest, chunk]);
    const lastLine = data.lastIndexOf(NEWLINE);
    if (lastLine === -1) {
      this.#rest = data;
      return;
    }
    this.#rest = lastLine + 1 < data.length ? data.subarray(lastLine + 1) : undefined;
    // A newline byte never occurs inside a multi-byte UTF-8 sequence, so the cut is safe.
    this.#decodeLines(data.toString("utf8", 0, lastLine + 1));
  }

  /** The rows decoded; throws the first decoding failure, or when the output ended inside a line. */
  end(): DecodedRows {
    if (this.#failed) throw this.#failure;
    if (this.#rest !== undefined) throw new Error(`COPY output ended inside a row (${this.#rest.length} bytes without a newline)`);
    return { rows: this.#rows, positions: this.#positions };
  }

  #decodeLines(text: string): void {
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf("\n", start);
      const backslash = text.indexOf(BACKSLASH, start);
      if (backslash !== -1 && backslash < end) this.#addFields(splitEscaped(text.slice(start, end), this.#width));
      else this.#addLine(text, start, end);
      start = end + 1;
    }
  }

  /** A line without any backslash: no NULL and nothing to unescape. */
  #addLine(text: string, start: number, end: number): void {
    const { names, parsers } = this.#columns;
    const row: Row = { ...this.#template };
    const position = new Array<string>(this.#columns.positionColumns);
    const last = this.#width - 1;
    let from = start;
    for (let column = 0; column <= last; column++) {
      let to = text.indexOf(TAB, from);
      if (to === -1 || to > end) {
        if (column !== last) throw new CopyColumnsChanged(this.#width, column + 1);
        to = end;
      } else if (column === last) {
        throw new CopyColumnsChanged(this.#width, this.#width + 1);
      }
      const value = text.slice(from, to);
      if (column < names.length) row[names[column] as string] = (parsers[column] as TextParser)(value);
      else position[column - names.length] = value;
      from = to + 1;
    }
    this.#rows.push(row);
    this.#positions.push(position);
  }

  #addFields(fields: ReadonlyArray<string | null>): void {
    const { names, parsers } = this.#columns;
    const row: Row = { ...this.#template };
    for (let column = 0; column < names.length; column++) {
      const value = fields[column] as string | null;
      row[names[column] as string] = value === null ? null : (parsers[column] as TextParser)(value);
    }
    // Position columns are order columns, which the page query reads only where NOT NULL.
    this.#rows.push(row);
    this.#positions.push(fields.slice(names.length) as string[]);
  }
}

/** Splits a line that has backslashes into unescaped fields (`\N` alone is NULL). */
function splitEscaped(line: string, width: number): Array<string | null> {
  const raw = line.split(TAB);
  if (raw.length !== width) throw new CopyColumnsChanged(width, raw.length);
  return raw.map((field) => (field === "\\N" ? null : field.includes(BACKSLASH) ? unescapeCopyText(field) : field));
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** Undoes COPY text escaping: \\, \b \f \n \r \t \v, octal \ooo and hex \xhh (bytes, read as UTF-8). */
export function unescapeCopyText(field: string): string {
  if (!/\\[0-7x]/.test(field)) return field.replace(/\\(.)/gs, (_, char: string) => SIMPLE_ESCAPES[char] ?? char);
  // Octal and hex escapes stand for bytes, which may form one multi-byte character together.
  const parts: Buffer[] = [];
  const escape = /\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/gs;
  let from = 0;
  for (let match = escape.exec(field); match !== null; match = escape.exec(field)) {
    parts.push(Buffer.from(field.slice(from, match.index), "utf8"));
    const [, octal, hex, other] = match;
    if (octal !== undefined) parts.push(Buffer.from([parseInt(octal, 8) & 0xff]));
    else if (hex !== undefined) parts.push(Buffer.from([parseInt(hex, 16)]));
    else parts.push(Buffer.from(SIMPLE_ESCAPES[other as string] ?? (other as string), "utf8"));
    from = escape.lastIndex;
  }
  parts.push(Buffer.from(field.slice(from), "utf8"));
  return Buffer.concat(parts).toString("utf8");
}
