import jsonata from "jsonata";
import type { Message } from "../../../core/message.js";

/**
 * A string with `{{ JSONata }}` parts evaluated against each message (the payload as input,
 * `$message` bound to id, key, headers, metadata and correlation_id), e.g. a routing key
 * `orders.{{ region }}.{{ $lowercase(status) }}`. A string without `{{` is used as it is.
 */
export class MessageTemplate {
  readonly source: string;
  readonly #parts: readonly (string | jsonata.Expression)[];
  readonly #static: string | undefined;

  private constructor(source: string, parts: (string | jsonata.Expression)[]) {
    this.source = source;
    this.#parts = parts;
    this.#static = parts.every((part) => typeof part === "string") ? parts.join("") : undefined;
  }

  /** Throws an Error naming the bad part when an expression does not parse or a `{{` is not closed. */
  static parse(source: string): MessageTemplate {
    const parts: (string | jsonata.Expression)[] = [];
    let rest = source;
    for (;;) {
      const open = rest.indexOf("{{");
      if (open === -1) break;
      const close = rest.indexOf("}}", open + 2);
      if (close === -1) throw new Error(`"{{" at position ${source.length - rest.length + open} is not closed with "}}"`);
      if (open > 0) parts.push(rest.slice(0, open));
      const expression = rest.slice(open + 2, close).trim();
      if (expression === "") throw new Error(`empty "{{ }}" at position ${source.length - rest.length + open}`);
      try {
        parts.push(jsonata(expression));
      } catch (error) {
        throw new Error(`invalid JSONata in "{{ ${expression} }}": ${(error as Error).message}`, { cause: error });
      }
      rest = rest.slice(close + 2);
    }
    if (rest !== "") parts.push(rest);
    return new MessageTemplate(source, parts);
  }

  /** The problem with `source` as a template, or undefined when it parses (for config checks). */
  static problem(source: string): string | undefined {
    try {
      MessageTemplate.parse(source);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** The text without evaluating anything, when the template has no expressions. */
  get staticText(): string | undefined {
    return this.#static;
  }

  /** Throws (a permanent failure for that message) when an expression yields nothing or a non-scalar. */
  async render(message: Message): Promise<string> {
    if (this.#static !== undefined) return this.#static;
    let out = "";
    const bindings = { message: { id: message.id, key: message.key, headers: message.headers, metadata: message.metadata, correlation_id: message.correlationId } };
    for (const part of this.#parts) {
      if (typeof part === "string") {
        out += part;
        continue;
      }
      const value: unknown = await part.evaluate(message.payload, bindings);
      if (value === undefined || value === null || typeof value === "object") {
        throw new Error(`the template "${this.source}" gave ${value === undefined ? "nothing" : JSON.stringify(value)} for message ${message.id}; each {{ }} must give a string, number or boolean`);
      }
      out += String(value);
    }
    return out;
  }
}
