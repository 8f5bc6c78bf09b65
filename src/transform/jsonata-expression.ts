import jsonata from "jsonata";
import { Type } from "@sinclair/typebox";
import { configError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";

/** A step value that is a JSONata expression: the string itself, or `{ expression: "…" }`. */
export type ExpressionValue = string | { expression: string };

export function expressionValueSchema(description: string) {
  return Type.Union(
    [
      Type.String({ minLength: 1, description }),
      Type.Object({ expression: Type.String({ minLength: 1, description }) }, { additionalProperties: false }),
    ],
    { description: `${description} Either the expression itself, or an object with an \`expression\` field.` },
  );
}

export function expressionSource(value: ExpressionValue): string {
  return typeof value === "string" ? value : value.expression;
}

export function expressionIssues(value: ExpressionValue): ConfigIssue[] {
  const problem = jsonataSyntaxProblem(expressionSource(value));
  if (problem === undefined) return [];
  return [{ path: typeof value === "string" ? [] : ["expression"], message: problem }];
}

/** `invalid JSONata at position N: message` when the expression does not parse. */
export function jsonataSyntaxProblem(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (error) {
    return `invalid JSONata${describeJsonataError(error)}`;
  }
}

/** ` at position N: message`, or `: message` when JSONata gives no position; appended to a phrase such as "invalid JSONata". */
export function describeJsonataError(error: unknown): string {
  const { message, position } = (error ?? {}) as { message?: unknown; position?: unknown };
  const text = typeof message === "string" && message.length > 0 ? message : String(error);
  return typeof position === "number" ? ` at position ${position}: ${text}` : `: ${text}`;
}

/**
 * A JSONata expression compiled once at build time. It is evaluated with the payload as
 * input and `$message` bound to the message envelope (`id`, `key`, `headers`, `metadata`,
 * `correlation_id`); the binding is only built for expressions that mention it.
 */
export class JsonataExpression {
  readonly source: string;
  readonly #compiled: jsonata.Expression;
  readonly #usesMessage: boolean;

  /** Throws a config error naming the step when the expression does not parse. */
  constructor(source: string, stepName: string) {
    this.source = source;
    try {
      this.#compiled = jsonata(source);
    } catch (error) {
      throw configError(`${stepName}: invalid JSONata${describeJsonataError(error)}`, { code: "transform.invalid_jsonata", cause: error });
    }
    this.#usesMessage = source.includes("$message");
  }

  /** Rejects with JSONata's own error object; describe it with `describeJsonataError`. */
  evaluate(message: Message): Promise<unknown> {
    return this.#compiled.evaluate(message.payload, this.#usesMessage ? { message: messageBinding(message) } : undefined);
  }
}

function messageBinding(message: Message): Record<string, unknown> {
  return {
    id: message.id,
    key: message.key,
    headers: message.headers,
    metadata: message.metadata,
    correlation_id: message.correlationId,
  };
}
