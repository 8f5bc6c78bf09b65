/**
 * Rows in COPY … (FORMAT csv): every value quoted (so an empty string stays an empty
 * string and commas, quotes and newlines pass through), quotes doubled, and SQL NULL as
 * an unquoted empty field, which is CSV's default NULL.
 */
export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map((value) => (value === null ? "" : `"${value.replaceAll('"', '""')}"`)).join(",")}\n`;
}

/** Yields the CSV in chunks of about `chunkBytes`, so a large batch is not one huge string. */
export function* csvChunks(rows: Iterable<readonly (string | null)[]>, chunkBytes = 64 * 1024): Generator<string> {
  let chunk = "";
  for (const row of rows) {
    chunk += csvLine(row);
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}
