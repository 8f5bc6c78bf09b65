/**
 * Rows in COPY … (FORMAT csv): every value quoted (so an empty string stays an empty
 * string and commas, quotes and newlines pass through), quotes doubled, and SQL NULL as
 * an unquoted empty field, which is CSV's default NULL.
 */
export function csvLine(values: readonly (string | null)[]): string {
  return appendCsvLine("", values);
}

/**
 * `out` followed by the CSV line of `values`. Built by concatenation (no array, no
 * `map`/`join` per row) and quotes are only replaced in values that have one: this runs
 * once per row written.
 */
export function appendCsvLine(out: string, values: readonly (string | null)[]): string {
  let line = out;
  for (let at = 0; at < values.length; at++) {
    const value = values[at] as string | null;
    if (at > 0) line += ",";
    if (value === null) continue;
    line += value.indexOf('"') === -1 ? `"${value}"` : `"${value.replaceAll('"', '""')}"`;
  }
  return `${line}\n`;
}

/** Yields the CSV in chunks of about `chunkBytes`, so a large batch is not one huge string. */
export function* csvChunks(rows: Iterable<readonly (string | null)[]>, chunkBytes = 64 * 1024): Generator<string> {
  let chunk = "";
  for (const row of rows) {
    chunk = appendCsvLine(chunk, row);
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}
