import type { Message } from "../../core/message.js";
import type { ReceivedResponse } from "./http-client.js";
import type { HttpResponseOptions } from "./schema.js";

/** What a target stores in the message for a response (`response.into`). */
export interface MappedResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  body_truncated?: true;
}

/**
 * Puts the response of a written message into `message.metadata` at `response.into`
 * (e.g. "metadata.response"), for the steps after the target (fan-out, workflows) to read.
 * A fresh metadata object is assigned, so metadata shared with other messages is left alone.
 */
export class ResponseMapping {
  readonly #path: string[];
  readonly #headers: string[];
  readonly #body: boolean;

  constructor(options: HttpResponseOptions) {
    this.#path = options.into.split(".").slice(1);
    this.#headers = (options.headers ?? []).map((name) => name.toLowerCase());
    this.#body = options.body ?? true;
  }

  get wantsBody(): boolean {
    return this.#body;
  }

  apply(message: Message, response: ReceivedResponse): void {
    const mapped: MappedResponse = { status: response.status, headers: {} };
    for (const name of this.#headers) {
      const value = response.headers[name];
      if (value !== undefined) mapped.headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    if (this.#body) {
      if (response.bodyTruncated) mapped.body_truncated = true;
      else if (response.body.byteLength > 0) mapped.body = parseBody(response);
    }
    message.metadata = withValueAt(message.metadata, this.#path, mapped);
  }
}

function parseBody(response: ReceivedResponse): unknown {
  const text = response.body.toString("utf8");
  const type = String(response.headers["content-type"] ?? "");
  if (/\bjson\b/i.test(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function withValueAt(target: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return target;
  if (rest.length === 0) return { ...target, [head]: value };
  const inner = target[head];
  const nested = inner !== null && typeof inner === "object" && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...target, [head]: withValueAt(nested, rest, value) };
}
