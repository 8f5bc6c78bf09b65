/**
 * Rows in COPY's text format (the default of `COPY … FROM STDIN`): values separated by
 * tabs, rows ended by a newline, SQL NULL as `\N`, and backslash, newline, carriage return
 * and tab escaped with a backslash. Unlike CSV, quotes need no doubling, so JSON text goes
 * through as it is, and nothing is quoted.
 *
 * This is the per-row path of every COPY the postgres target makes. Rows are appended to
 * one string per chunk and each chunk is UTF-8-encoded once: a native call per value
 * (Buffer#write) cost more than the encoding itself. A value is escaped only when one
 * regular-expression test finds one of the four characters.
 */
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPED = /[\\\n\r\t]/g;
const ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function escapeCopyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (char) => ESCAPES[char] as string) : value;
}

/** One row in COPY text, without its newline. */
export function copyTextLine(values: ReadonlyArray<string | null>): string {
  let line = "";
  for (let at = 0; at < values.length; at++) line = appendCopyValue(line, at, values[at] as string | null);
  return line;
}

/** `line` followed by value number `at` of a row (a tab before all but the first; null is SQL NULL). */
export function appendCopyValue(line: string, at: number, value: string | null): string {
  const text = value === null ? "\\N" : escapeCopyText(value);
  return at === 0 ? text : `${line}\t${text}`;
}

/**
 * COPY text lines (each without its newline) as CopyData messages ('d', length, data),
 * each a header buffer followed by its data, of about `chunkChars` characters of text each.
 */
export function copyDataMessages(lines: Iterable<string>, chunkChars = 64 * 1024): Buffer[] {
  const messages: Buffer[] = [];
  let text = "";
  for (const line of lines) {
    text += `${line}\n`;
    if (text.length >= chunkChars) {
      pushMessage(messages, text);
      text = "";
    }
  }
  if (text.length > 0) pushMessage(messages, text);
  return messages;
}

function pushMessage(messages: Buffer[], text: string): void {
  const data = Buffer.from(text, "utf8");
  const header = Buffer.allocUnsafe(5);
  header[0] = 0x64; // 'd'
  header.writeUInt32BE(data.length + 4, 1);
  messages.push(header, data);
}
