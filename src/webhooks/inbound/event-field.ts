import jsonata from "jsonata";
import { configError } from "../../core/errors.js";
import { describeJsonataError } from "../../transform/jsonata-expression.js";

const SIMPLE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Reads a string (event type or id) from a webhook's JSON body, `$headers` bound to its request headers. */
export type EventField = (body: unknown, headers: Readonly<Record<string, string>>) => Promise<string | undefined>;

/**
 * A JSONata expression over the body; a plain path such as `type` or `data.object.id` is
 * read directly (most senders put the type in one field, and this runs on every request).
 * Numbers are taken as their text; anything else that is not a non-empty string is undefined.
 */
export function compileEventField(source: string, what: string): EventField {
  if (SIMPLE_PATH.test(source)) {
    const steps = source.split(".");
    return async (body) => asText(readPath(body, steps));
  }
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (error) {
    throw configError(`${what}: invalid JSONata${describeJsonataError(error)}`, { code: "config.webhook_expression" });
  }
  return async (body, headers) => asText(await expression.evaluate(body, { headers }));
}

function readPath(value: unknown, steps: readonly string[]): unknown {
  let node = value;
  for (const step of steps) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value.length > 0 ? value : undefined;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}
