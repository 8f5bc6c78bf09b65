import { Type } from "@sinclair/typebox";
import { withPayload } from "../core/message.js";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";
import { describeValueType, fieldPathProblem, isPlainObject, parseFieldPath, setOwnField } from "./field-path.js";
import { transformFailed } from "./transform-error.js";
import type { TransformSpec } from "./types.js";

const schema = Type.Array(
  Type.String({
    minLength: 1,
    description: "A field to keep: a top-level name (`email`) or a dotted path into nested objects (`address.city`).",
  }),
  {
    minItems: 1,
    description: "The fields to keep, in the order they should appear. Fields missing from a payload are left out.",
  },
);

interface PickNode {
  /** The whole value at this field is kept. */
  whole: boolean;
  children: Map<string, PickNode>;
}

export const selectTransform: TransformSpec<typeof schema> = {
  name: "select",
  summary: "Keeps only the listed fields of an object payload (dotted paths keep nested fields) and drops the rest.",
  schema,
  example: ["- select:", "    - id", "    - email", "    - address.city"].join("\n"),
  check(fields) {
    const issues: ConfigIssue[] = [];
    const seen = new Set<string>();
    fields.forEach((field, index) => {
      const problem = fieldPathProblem(field);
      if (problem !== undefined) issues.push({ path: [index], message: problem });
      else if (seen.has(field)) issues.push({ path: [index], message: `"${field}" is listed twice; remove one` });
      seen.add(field);
    });
    return issues;
  },
  build(fields) {
    const root: PickNode = { whole: false, children: new Map() };
    for (const field of fields) {
      let node = root;
      for (const segment of parseFieldPath(field)) {
        let child = node.children.get(segment);
        if (child === undefined) {
          child = { whole: false, children: new Map() };
          node.children.set(segment, child);
        }
        node = child;
      }
      node.whole = true;
    }
    return {
      name: "select",
      apply(message: Message): Message {
        const payload = message.payload;
        if (!isPlainObject(payload)) {
          throw transformFailed("select", `the payload is ${describeValueType(payload)}; select needs an object (add a \`map\` step before it to build one)`);
        }
        return withPayload(message, pick(payload, root) ?? {});
      },
    };
  },
};

/** The selected fields of `source`, or undefined when none of them is present. */
function pick(source: Record<string, unknown>, node: PickNode): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [key, child] of node.children) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    const picked = child.whole ? value : isPlainObject(value) ? pick(value, child) : undefined;
    if (picked === undefined && !child.whole) continue;
    out ??= {};
    setOwnField(out, key, picked);
  }
  return out;
}
