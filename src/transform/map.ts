import { withPayload } from "../core/message.js";
import type { Message } from "../core/message.js";
import { describeJsonataError, expressionIssues, expressionSource, expressionValueSchema, JsonataExpression } from "./jsonata-expression.js";
import { toPlainData } from "./jsonata-result.js";
import { transformFailed } from "./transform-error.js";
import type { TransformSpec } from "./types.js";

const schema = expressionValueSchema(
  "JSONata expression whose result becomes the new payload. Field names refer to the payload; " +
    "`$message` holds the envelope (`id`, `key`, `headers`, `metadata`, `correlation_id`).",
);

export const mapTransform: TransformSpec<typeof schema> = {
  name: "map",
  summary:
    "Reshapes the payload with a JSONata expression; the result replaces the payload. " +
    "A message for which the expression fails or produces nothing is dead-lettered with the reason.",
  schema,
  example: [
    "- map: |",
    "    {",
    '      "id": id,',
    '      "email": $lowercase(email),',
    '      "name": first_name & " " & last_name,',
    '      "source_message": $message.id',
    "    }",
  ].join("\n"),
  check: (value) => expressionIssues(value),
  build(value) {
    const expression = new JsonataExpression(expressionSource(value), "map");
    return {
      name: "map",
      async apply(message: Message): Promise<Message> {
        let result: unknown;
        try {
          result = await expression.evaluate(message);
        } catch (error) {
          throw transformFailed("map", `expression failed${describeJsonataError(error)}`, { cause: error });
        }
        if (typeof result === "function") {
          throw transformFailed("map", "the expression produced a function, not data; call it, e.g. `$f(...)`");
        }
        if (result === undefined) {
          throw transformFailed(
            "map",
            "map produced no value: the expression matched nothing in this payload; give a default (`field ? field : null`) or drop such messages with a `filter` step first",
          );
        }
        return withPayload(message, toPlainData(result));
      },
    };
  },
};
