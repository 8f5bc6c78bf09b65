export type WatermarkValue = string | number;

/** Ids kept for the records at exactly the checkpointed watermark; beyond it the rest are delivered again (never lost). */
export const MAX_BOUNDARY_IDS = 1000;

/**
 * The source's durable position: the largest watermark value among the records written
 * (never the wall-clock time of a poll), and the ids of the records written at exactly that
 * value. The next poll asks for records `>=` the watermark and skips those ids, so records
 * sharing the boundary value are neither lost nor delivered twice.
 */
export interface HttpSourceCheckpoint {
  /** The `watermark.field` expression it was taken with: another field makes it meaningless. */
  field: string;
  watermark: WatermarkValue;
  seen: string[];
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Orders two watermark values: numbers (and numeric strings) by value, ISO-8601 timestamps by
 * the instant they name — offsets and any number of fractional digits included, where comparing
 * the text would be wrong ("…:00.5Z" sorts before "…:00Z") — and other strings as text.
 */
export function compareWatermarks(a: WatermarkValue, b: WatermarkValue): number {
  if (isNumeric(a) && isNumeric(b)) return Math.sign(Number(a) - Number(b));
  if (typeof a === "string" && typeof b === "string") {
    const left = instant(a);
    const right = instant(b);
    if (left !== undefined && right !== undefined) return Math.sign(left.ms - right.ms) || compareText(left.fraction, right.fraction);
    return compareText(a, b);
  }
  return compareText(String(a), String(b));
}

/** A record's watermark as a comparable value, or undefined when it has none (null, an object…). */
export function asWatermark(value: unknown): WatermarkValue | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value !== "") return value;
  return undefined;
}

/** The stored checkpoint when it is one of ours for the same field, else undefined. */
export function parseCheckpoint(stored: unknown, field: string): HttpSourceCheckpoint | "other" | undefined {
  if (stored === undefined || stored === null) return undefined;
  const value = stored as Partial<HttpSourceCheckpoint>;
  const watermark = asWatermark(value.watermark);
  if (value.field !== field || watermark === undefined || !Array.isArray(value.seen) || !value.seen.every((id) => typeof id === "string")) return "other";
  return { field, watermark, seen: value.seen };
}

/**
 * The watermark of one poll. It starts at the checkpoint the poll began from, decides which
 * records are new (above it, or at it with an id not delivered yet) and moves up with every
 * record delivered; `position()` is the checkpoint once those records are written.
 */
export class PollWatermark {
  readonly #field: string;
  readonly #start: HttpSourceCheckpoint | undefined;
  readonly #startSeen: ReadonlySet<string>;
  #max: WatermarkValue | undefined;
  #atMax: Set<string>;
  #outOfOrder = false;

  constructor(field: string, start: HttpSourceCheckpoint | undefined) {
    this.#field = field;
    this.#start = start;
    this.#startSeen = new Set(start?.seen ?? []);
    this.#max = start?.watermark;
    this.#atMax = new Set(start?.seen ?? []);
  }

  /** The value the poll asks the API for (`>=`): the checkpointed watermark. */
  get requested(): WatermarkValue | undefined {
    return this.#start?.watermark;
  }

  /** Whether a record was delivered already: below the starting watermark, or at it with a known id. */
  delivered(value: WatermarkValue, id: string): boolean {
    if (this.#start === undefined) return false;
    const order = compareWatermarks(value, this.#start.watermark);
    return order < 0 || (order === 0 && this.#startSeen.has(id));
  }

  /** Takes a record being delivered into account. Returns false when it came below the highest value seen (not sorted). */
  advance(value: WatermarkValue, id: string): boolean {
    const order = this.#max === undefined ? 1 : compareWatermarks(value, this.#max);
    if (order > 0) {
      this.#max = value;
      this.#atMax = new Set([id]);
      return true;
    }
    if (order === 0) {
      if (this.#atMax.size < MAX_BOUNDARY_IDS) this.#atMax.add(id);
      return true;
    }
    this.#outOfOrder = true;
    return false;
  }

  /** Whether a record came below the highest value already seen in this poll. */
  get outOfOrder(): boolean {
    return this.#outOfOrder;
  }

  /** The checkpoint covering every record advanced so far. */
  position(): HttpSourceCheckpoint | undefined {
    if (this.#max === undefined) return undefined;
    return { field: this.#field, watermark: this.#max, seen: [...this.#atMax] };
  }
}

function isNumeric(value: WatermarkValue): boolean {
  return typeof value === "number" || NUMERIC.test(value);
}

function instant(text: string): { ms: number; fraction: string } | undefined {
  const match = TIMESTAMP.exec(text.trim());
  if (match === null) return undefined;
  const [, dateTime, fraction = "", zone = ""] = match;
  const ms = Date.parse(`${(dateTime as string).replace(" ", "T")}${isoZone(zone)}`);
  return Number.isNaN(ms) ? undefined : { ms, fraction: fraction.replace(/0+$/, "") };
}

/** "+01" and "+0100" as "+01:00", which every Date.parse takes. */
function isoZone(zone: string): string {
  if (/^[+-]\d{2}$/.test(zone)) return `${zone}:00`;
  if (/^[+-]\d{4}$/.test(zone)) return `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return zone.toUpperCase();
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
