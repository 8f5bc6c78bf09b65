import pg from "pg";
import type { CustomTypesConfig } from "pg";

/**
 * How column values arrive in payloads, set per pool (never through pg's global
 * `types`, which other code in the process may rely on):
 * - timestamptz: ISO 8601 with zone ("2024-05-01T10:00:00.123456Z"), microseconds kept;
 *   timestamp: ISO without zone; date: "YYYY-MM-DD" (never a JS Date, which would shift it)
 * - numeric: string (exact); bigint: number when it fits in 2^53, else a string
 * - json/jsonb: parsed; bytea: base64 string
 * - everything else: node-postgres defaults
 */
const OID = {
  int8: 20,
  bytea: 17,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  textArray: 1009,
  int8Array: 1016,
  byteaArray: 1001,
  dateArray: 1182,
  timestampArray: 1115,
  timestamptzArray: 1185,
} as const;

type TextParser = (text: string) => unknown;

const TIMESTAMP_TEXT = /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::\d{2}){0,2})?$/;

/** The common case of a timestamptz in a UTC session: "… hh:mm:ss[.ffffff]+00". */
const UTC_TIMESTAMP_TEXT = /^\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?\+00$/;

export function timestampToIso(text: string): string {
  // Fast path for every timestamptz of a UTC session (the pool sets TimeZone=UTC): a test
  // and two slices, no match array; this runs once per timestamp value read.
  if (UTC_TIMESTAMP_TEXT.test(text)) {
    const space = text.indexOf(" ");
    return `${text.slice(0, space)}T${text.slice(space + 1, text.length - 3)}Z`;
  }
  const match = TIMESTAMP_TEXT.exec(text);
  // BC dates and ±infinity have no ISO form worth inventing: keep PostgreSQL's text.
  if (match === null) return text;
  const [, date, time, offset] = match as unknown as [string, string, string, string | undefined];
  if (offset === undefined) return `${date}T${time}`;
  if (/^[+-]00(:00){0,2}$/.test(offset)) return `${date}T${time}Z`;
  return `${date}T${time}${offset.length === 3 ? `${offset}:00` : offset}`;
}

export function int8ToNumberOrString(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

export function byteaToBase64(text: string): string {
  if (text.startsWith("\\x")) return Buffer.from(text.slice(2), "hex").toString("base64");
  // bytea_output = escape: let node-postgres decode it.
  const decode = pg.types.getTypeParser(OID.bytea, "text") as (value: string) => Buffer;
  return decode(text).toString("base64");
}

const identity: TextParser = (text) => text;

const TEXT_PARSERS = new Map<number, TextParser>([
  [OID.int8, int8ToNumberOrString],
  [OID.bytea, byteaToBase64],
  [OID.date, identity],
  [OID.timestamp, timestampToIso],
  [OID.timestamptz, timestampToIso],
  [OID.int8Array, arrayOf(int8ToNumberOrString)],
  [OID.byteaArray, arrayOf(byteaToBase64)],
  [OID.dateArray, arrayOf(identity)],
  [OID.timestampArray, arrayOf(timestampToIso)],
  [OID.timestamptzArray, arrayOf(timestampToIso)],
]);

/** Parses an array literal as text[] (nested arrays included), then each element with `element`. */
function arrayOf(element: TextParser): TextParser {
  const parserFor = pg.types.getTypeParser as (oid: number, format: "text") => (text: string) => unknown;
  const parseTextArray = parserFor(OID.textArray, "text");
  const map = (value: unknown): unknown => (Array.isArray(value) ? value.map(map) : typeof value === "string" ? element(value) : null);
  return (text) => map(parseTextArray(text));
}

/** The `types` option of a Pool: Junction's parsers for text results, pg's defaults otherwise. */
export const junctionTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (format !== "binary") {
      const parser = TEXT_PARSERS.get(oid);
      if (parser !== undefined) return parser;
    }
    return pg.types.getTypeParser(oid, format);
  }) as CustomTypesConfig["getTypeParser"],
};
