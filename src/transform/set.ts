import { Type } from "@sinclair/typebox";
import { withPayload } from "../core/message.js";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";
import { describeValueType, fieldPathProblem, fieldPathsOverlap, isPlainObject, parseFieldPath } from "./field-path.js";
import { FieldWriteError, FieldWriter, KEEP_FIELD } from "./field-writer.js";
import { describeJsonataError, JsonataExpression, jsonataSyntaxProblem } from "./jsonata-expression.js";
import { toPlainData } from "./jsonata-result.js";
import { transformFailed } from "./transform-error.js";
import type { TransformSpec } from "./types.js";

const computedValue = Type.Object(
  {
    jsonata: Type.String({
      minLength: 1,
      description: "JSONata expression evaluated against the incoming payload (`$message` holds the envelope). When it produces nothing the field is left as it is.",
    }),
  },
  { additionalProperties: false, description: "A value computed for each message." },
);

const schema = Type.Record(
  Type.String({ minLength: 1 }),
  Type.Union([computedValue, Type.Unknown({ description: "A literal value: string, number, boolean, null, object or array." })]),
  {
    minProperties: 1,
    description:
      "Map of field name to value. Dotted names set nested fields, creating objects as needed. A value is a literal, " +
      "or `{ jsonata: \"<expression>\" }` to compute it from the payload. Every expression sees the payload as it was before this step.",
  },
);

interface ComputedField {
  field: string;
  valueIndex: number;
  expression: JsonataExpression;
}

export const setTransform: TransformSpec<typeof schema> = {
  name: "set",
  summary: "Sets fields of an object payload to literal values or to values computed with JSONata; other fields are kept.",
  schema,
  example: [
    "- set:",
    "    source: crm",
    "    synced: true",
    "    meta.version: 2",
    "    full_name: { jsonata: 'first_name & \" \" & last_name' }",
  ].join("\n"),
  check(fields) {
    const issues: ConfigIssue[] = [];
    const names = Object.keys(fields);
    names.forEach((field, i) => {
      const problem = fieldPathProblem(field);
      if (problem !== undefined) {
        issues.push({ path: [field], message: problem });
        return;
      }
      const value = fields[field];
      if (isComputedValue(value)) {
        const syntax = jsonataSyntaxProblem(value.jsonata);
        if (syntax !== undefined) issues.push({ path: [field, "jsonata"], message: syntax });
      }
      for (const other of names.slice(0, i)) {
        if (fieldPathProblem(other) === undefined && fieldPathsOverlap(parseFieldPath(field), parseFieldPath(other))) {
          issues.push({ path: [field], message: `"${other}" and "${field}" overlap (one lies inside the other); set only one of them` });
        }
      }
    });
    return issues;
  },
  build(fields) {
    const names = Object.keys(fields);
    const writer = new FieldWriter(names.map(parseFieldPath));
    const literalValues: unknown[] = [];
    const computed: ComputedField[] = [];
    names.forEach((field, valueIndex) => {
      const value = fields[field];
      if (isComputedValue(value)) {
        computed.push({ field, valueIndex, expression: new JsonataExpression(value.jsonata, `set: field "${field}"`) });
        literalValues.push(KEEP_FIELD);
      } else {
        // Shared by every message, so frozen: nothing downstream can change it for the next one.
        literalValues.push(deepFreeze(structuredClone(value)));
      }
    });

    const write = (message: Message, payload: Record<string, unknown>, values: readonly unknown[]): Message => {
      try {
        return withPayload(message, writer.write(payload, values));
      } catch (error) {
        if (error instanceof FieldWriteError) throw transformFailed("set", error.message, { cause: error });
        throw error;
      }
    };
    const objectPayload = (message: Message): Record<string, unknown> => {
      const payload = message.payload;
      if (!isPlainObject(payload)) {
        throw transformFailed("set", `the payload is ${describeValueType(payload)}; set needs an object (add a \`map\` step before it to build one)`);
      }
      return payload;
    };

    if (computed.length === 0) {
      return { name: "set", apply: (message: Message) => write(message, objectPayload(message), literalValues) };
    }
    return {
      name: "set",
      async apply(message: Message): Promise<Message> {
        const payload = objectPayload(message);
        const values = literalValues.slice();
        await Promise.all(
          computed.map(async ({ field, valueIndex, expression }) => {
            let result: unknown;
            try {
              result = toPlainData(await expression.evaluate(message));
            } catch (error) {
              throw transformFailed("set", `field "${field}": expression failed${describeJsonataError(error)}`, { cause: error });
            }
            values[valueIndex] = result === undefined ? KEEP_FIELD : result;
          }),
        );
        return write(message, payload, values);
      },
    };
  },
};

function isComputedValue(value: unknown): value is { jsonata: string } {
  if (!isPlainObject(value) || typeof value["jsonata"] !== "string") return false;
  for (const key in value) if (key !== "jsonata") return false;
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
