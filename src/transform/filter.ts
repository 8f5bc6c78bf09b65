import type { Message } from "../core/message.js";
import { describeJsonataError, expressionIssues, expressionSource, expressionValueSchema, JsonataExpression } from "./jsonata-expression.js";
import { transformFailed } from "./transform-error.js";
import type { TransformSpec } from "./types.js";

const schema = expressionValueSchema(
  "JSONata predicate evaluated against the payload (`$message` holds the envelope). " +
    "The message is kept when the result is true in JSONata's `$boolean` sense: true, a non-zero number, " +
    "a non-empty string, array or object. Anything else, including no result, drops it.",
);

export const filterTransform: TransformSpec<typeof schema> = {
  name: "filter",
  summary: "Keeps only the messages for which a JSONata predicate is true; the others are dropped, not dead-lettered.",
  schema,
  example: "- filter: status = \"active\" and $exists(email)",
  check: (value) => expressionIssues(value),
  build(value) {
    const predicate = new JsonataExpression(expressionSource(value), "filter");
    return {
      name: "filter",
      async apply(message: Message): Promise<Message | null> {
        let result: unknown;
        try {
          result = await predicate.evaluate(message);
        } catch (error) {
          throw transformFailed("filter", `expression failed${describeJsonataError(error)}`, { cause: error });
        }
        return isJsonataTrue(result) ? message : null;
      },
    };
  },
};

/** JSONata's `$boolean` casting rules, with "no result" as false. */
export function isJsonataTrue(value: unknown): boolean {
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      return value !== 0;
    case "string":
      return value.length > 0;
    case "object":
      if (value === null) return false;
      if (Array.isArray(value)) return value.some(isJsonataTrue);
      for (const key in value) if (Object.hasOwn(value, key)) return true;
      return false;
    default:
      return false;
  }
}
