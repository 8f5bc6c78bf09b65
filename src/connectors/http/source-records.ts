import { createHash } from "node:crypto";
import jsonata from "jsonata";
import { permanentError } from "../../core/errors.js";
import { asWatermark } from "./watermark.js";
import type { WatermarkValue } from "./watermark.js";

/** What the source needs to know about one record before it becomes a message. */
export interface RecordIdentity {
  id: string;
  /** true when the id came from the record (an `id` field or expression), not from a hash of it. */
  named: boolean;
  /** The record's watermark; undefined when it has none or no watermark is configured. */
  watermark: WatermarkValue | undefined;
  /** Why the record cannot be delivered as it is (its id expression failed): it is dead-lettered. */
  invalid?: Error;
}

/**
 * Finds the records in a response body (`records`, default the body as an array) and each
 * record's id (`id`, default its `id` field, else a SHA-256 of its canonical JSON so the
 * same record gets the same id on every poll) and watermark (`watermark.field`).
 */
export class RecordSelector {
  readonly #records: { source: string; expression: jsonata.Expression } | undefined;
  readonly #id: { source: string; expression: jsonata.Expression } | undefined;
  readonly #watermark: { source: string; expression: jsonata.Expression } | undefined;

  constructor(options: { records?: string | undefined; id?: string | undefined; watermark?: string | undefined }) {
    this.#records = compiled(options.records);
    this.#id = compiled(options.id);
    this.#watermark = compiled(options.watermark);
  }

  /** The records of a page; a permanent error telling how to fix `records` when they are not there. `page` is the URL as shown. */
  async select(body: unknown, page: string): Promise<unknown[]> {
    if (this.#records === undefined) {
      if (Array.isArray(body)) return body as unknown[];
      throw permanentError(`the response of ${page} is ${shape(body)}, not an array of records: set the source's \`records\` to the JSONata path of the array${keysHint(body)}`, {
        code: "http.records",
      });
    }
    let value: unknown;
    try {
      value = await this.#records.expression.evaluate(body);
    } catch (error) {
      throw permanentError(`records (${this.#records.source}) failed on the response of ${page}: ${(error as Error).message}`, { code: "http.records", cause: error });
    }
    if (Array.isArray(value)) return [...(value as unknown[])];
    // JSONata gives a lone match as the value itself.
    if (value !== null && typeof value === "object") return [value];
    throw permanentError(
      `records (${this.#records.source}) found ${value === undefined ? "nothing" : shape(value)} in the response of ${page}; it must give the array of records${keysHint(body)}`,
      { code: "http.records" },
    );
  }

  async identify(record: unknown): Promise<RecordIdentity> {
    const watermark = await this.#watermarkOf(record);
    if (this.#id === undefined) {
      const field = record !== null && typeof record === "object" && !Array.isArray(record) ? (record as Record<string, unknown>).id : undefined;
      if (typeof field === "string" || typeof field === "number") return { id: String(field), named: true, watermark };
      return { id: recordHash(record), named: false, watermark };
    }
    let value: unknown;
    let failure: string | undefined;
    try {
      value = await this.#id.expression.evaluate(record);
    } catch (error) {
      failure = (error as Error).message;
    }
    if (failure === undefined && (typeof value === "string" || typeof value === "number") && value !== "") return { id: String(value), named: true, watermark };
    const reason = failure ?? `gave ${value === undefined ? "nothing" : JSON.stringify(value)} (a non-empty string or a number is needed)`;
    return { id: recordHash(record), named: false, watermark, invalid: permanentError(`the id expression (${this.#id.source}) ${failure === undefined ? reason : `failed: ${reason}`}`, { code: "http.record_id" }) };
  }

  async #watermarkOf(record: unknown): Promise<WatermarkValue | undefined> {
    if (this.#watermark === undefined) return undefined;
    try {
      return asWatermark(await this.#watermark.expression.evaluate(record));
    } catch {
      return undefined;
    }
  }
}

/** A stable id for a record without one: the SHA-256 of its JSON with object keys sorted. */
export function recordHash(record: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(record)).digest("hex").slice(0, 32)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function compiled(source: string | undefined): { source: string; expression: jsonata.Expression } | undefined {
  return source === undefined ? undefined : { source, expression: jsonata(source) };
}

function shape(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function keysHint(body: unknown): string {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "";
  const keys = Object.keys(body).slice(0, 10);
  if (keys.length === 0) return "";
  const arrays = keys.filter((key) => Array.isArray((body as Record<string, unknown>)[key]));
  return ` (the body has ${keys.map((key) => `\`${key}\``).join(", ")}${arrays.length > 0 ? `; e.g. records: ${arrays[0]}` : ""})`;
}
