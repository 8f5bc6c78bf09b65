import { parse } from "csv-parse/sync";
import type { RawRecord } from "./record-reader.js";

const BOM = "\uFEFF";

/** A record turned into a payload, or its raw text and why it could not be parsed. */
export type DecodedRecord = { payload: unknown; parseError?: undefined } | { payload: string; parseError: string };

export function recordText(record: RawRecord): string {
  const text = record.bytes.toString("utf8");
  return record.start === 0 && text.startsWith(BOM) ? text.slice(1) : text;
}

export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

/** JSON Lines: one JSON value per line. A line that is not JSON keeps its raw text and the parse error. */
export function decodeJsonLine(text: string): DecodedRecord {
  try {
    return { payload: JSON.parse(text) as unknown };
  } catch (error) {
    return { payload: text, parseError: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function parseCsvHeader(text: string, delimiter: string): string[] {
  const rows = parse(text, { delimiter, record_delimiter: "\n", relax_column_count: true }) as string[][];
  return (rows[0] ?? []).map((name) => name.trim());
}

/**
 * CSV records to objects keyed by `columns`. The records are parsed together in one
 * call; when that fails, each one is parsed alone so only the broken ones carry an error.
 */
export function decodeCsvRecords(texts: readonly string[], columns: readonly string[], delimiter: string): DecodedRecord[] {
  if (texts.length === 0) return [];
  try {
    const rows = parseRows(texts.join("\n"), columns, delimiter);
    if (rows.length === texts.length) return rows.map((payload) => ({ payload }));
  } catch {
    // fall through to one-by-one parsing to find the broken records
  }
  return texts.map((text) => {
    try {
      const rows = parseRows(text, columns, delimiter);
      if (rows.length !== 1) return { payload: text, parseError: `invalid CSV: expected one record, found ${rows.length}` };
      return { payload: rows[0] as Record<string, string> };
    } catch (error) {
      return { payload: text, parseError: `invalid CSV: ${error instanceof Error ? error.message : String(error)}` };
    }
  });
}

function parseRows(text: string, columns: readonly string[], delimiter: string): Array<Record<string, string>> {
  return parse(text, { delimiter, record_delimiter: "\n", columns: [...columns], relax_column_count: false, skip_empty_lines: false }) as Array<Record<string, string>>;
}
