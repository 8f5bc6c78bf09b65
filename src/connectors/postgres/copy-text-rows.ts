/**
 * Reading `COPY … TO STDOUT` text output: lines, their positions, and payload objects.
 *
 * Chunks are decoded a run of whole lines at a time (one UTF-8 decode per chunk instead of
 * one per value) and split with indexOf; a value with a backslash takes the unescaping path.
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

/** The lines of a page and their positions, as the source hands them out. */
export interface CopyPage {
  /** Each row's payload columns as COPY wrote them: one line without its newline and without the position columns. */
  lines: string[];
  /** For each row, the text of its position columns. */
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

/**
 * Splits COPY output into lines and reads each line's position columns; the payload
 * columns stay text until someone asks for them (CopyRowParser), so a row that goes
 * straight into another PostgreSQL table is never decoded at all.
 */
export class CopyTextRowDecoder {
  readonly #positionColumns: number;
  readonly #width: number;
  readonly #lines: string[] = [];
  readonly #positions: string[][] = [];
  /** Bytes of an unfinished line, kept for the next chunk. */
  #rest: Buffer | undefined;
  /** The first decoding failure; later chunks are skipped (see `push`). */
  #failure: unknown;
  #failed = false;

  constructor(columns: CopyColumns) {
    this.#positionColumns = columns.positionColumns;
    this.#width = columns.names.length + columns.positionColumns;
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
    this.#splitLines(data.toString("utf8", 0, lastLine + 1));
  }

  /** The lines read; throws the first decoding failure, or when the output ended inside a line. */
  end(): CopyPage {
    if (this.#failed) throw this.#failure;
    if (this.#rest !== undefined) throw new Error(`COPY output ended inside a row (${this.#rest.length} bytes without a newline)`);
    return { lines: this.#lines, positions: this.#positions };
  }

  #splitLines(text: string): void {
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf("\n", start);
      this.#addLine(text, start, end);
      start = end + 1;
    }
  }

  /** Counts the line's columns (a tab inside a value is escaped) and cuts off the position columns. */
  #addLine(text: string, start: number, end: number): void {
    const tabs = this.#width - 1;
    const payloadTabs = tabs - this.#positionColumns;
    let payloadEnd = end;
    let found = 0;
    for (let at = text.indexOf(TAB, start); at !== -1 && at < end; at = text.indexOf(TAB, at + 1)) {
      if (found === payloadTabs) payloadEnd = at;
      found++;
    }
    if (found !== tabs) throw new CopyColumnsChanged(this.#width, found + 1);
    const position = this.#positionColumns === 0 ? [] : text.slice(payloadEnd + 1, end).split(TAB);
    for (let at = 0; at < position.length; at++) {
      const value = position[at] as string;
      // Position columns are order columns, which the page query reads only where NOT NULL.
      if (value.includes(BACKSLASH)) position[at] = unescapeCopyText(value);
    }
    this.#lines.push(text.slice(start, payloadEnd));
    this.#positions.push(position);
  }
}

/**
 * Turns a page's payload lines into payload objects the way node-postgres turns DataRow
 * messages into rows: every column's text goes through the type parser node-postgres would
 * use for its type (value-parsers.ts), so the values are the same; only the transport
 * differs. COPY writes each value with its type's output function, as a text-format result
 * does: tab-separated, SQL NULL as `\N`, and backslash, newline, carriage return, tab (and
 * \b, \f, \v) escaped.
 */
export class CopyRowParser {
  readonly #names: readonly string[];
  readonly #parsers: readonly TextParser[];
  /** Every payload starts as a copy of one template, so all share one shape (as node-postgres' rows do). */
  readonly #template: Row;

  constructor(columns: Pick<CopyColumns, "names" | "parsers">) {
    this.#names = columns.names;
    this.#parsers = columns.parsers;
    const template: Row = Object.create(null) as Row;
    for (const name of columns.names) template[name] = null;
    this.#template = { ...template };
  }

  parse(line: string): Row {
    const names = this.#names;
    const parsers = this.#parsers;
    const row: Row = { ...this.#template };
    if (line.includes(BACKSLASH)) {
      const fields = splitEscaped(line, names.length);
      for (let column = 0; column < names.length; column++) {
        const value = fields[column] as string | null;
        row[names[column] as string] = value === null ? null : (parsers[column] as TextParser)(value);
      }
      return row;
    }
    // No backslash: no NULL and nothing to unescape.
    let from = 0;
    for (let column = 0; column < names.length; column++) {
      let to = line.indexOf(TAB, from);
      if (to === -1) to = line.length;
      row[names[column] as string] = (parsers[column] as TextParser)(line.slice(from, to));
      from = to + 1;
    }
    return row;
  }
}

/** The fields of a COPY text line, unescaped, SQL NULL as null. */
export function copyTextFields(line: string, width: number): Array<string | null> {
  return line.includes(BACKSLASH) ? splitEscaped(line, width) : line.split(TAB);
}

/** Field `column` of a COPY text line, unescaped, SQL NULL as null. */
export function copyTextField(line: string, column: number): string | null {
  let from = 0;
  for (let at = 0; at < column; at++) {
    from = line.indexOf(TAB, from) + 1;
    if (from === 0) return null;
  }
  const to = line.indexOf(TAB, from);
  const value = to === -1 ? line.slice(from) : line.slice(from, to);
  if (value === "\\N") return null;
  return value.includes(BACKSLASH) ? unescapeCopyText(value) : value;
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
