import { Type } from "@sinclair/typebox";
import { withPayload } from "../core/message.js";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";
import { describeValueType, fieldPathProblem, fieldPathsOverlap, isPlainObject, MISSING, parseFieldPath, readFieldPath, setOwnField } from "./field-path.js";
import type { FieldPath } from "./field-path.js";
import { FieldWriteError, FieldWriter, KEEP_FIELD } from "./field-writer.js";
import { transformFailed } from "./transform-error.js";
import type { TransformSpec } from "./types.js";

const schema = Type.Record(
  Type.String({ minLength: 1 }),
  Type.String({ minLength: 1, description: "The new name. A dotted path (`contact.email`) moves the value into a nested object." }),
  {
    minProperties: 1,
    description:
      "Map of current field name to new name. Dotted paths address nested fields. Renaming a field that is " +
      "missing from a payload does nothing; a renamed field replaces an existing field of the new name. " +
      "All renames happen at once, so `{ a: b, b: a }` swaps two fields.",
  },
);

/** One object level of the rename plan. */
interface RenameLevel {
  /** Source keys at this level: the new key when the target has the same parent, else null (moved elsewhere). */
  sources: Map<string, string | null>;
  /** Same-level target key → its source key: an existing field of that name gives way when the source is present. */
  replacedBy: Map<string, string>;
  children: Map<string, RenameLevel>;
}

interface Move {
  from: FieldPath;
  to: FieldPath;
}

export const renameTransform: TransformSpec<typeof schema> = {
  name: "rename",
  summary: "Renames fields of an object payload, keeping their position; dotted paths rename or move nested fields.",
  schema,
  example: ["- rename:", "    user_id: id", "    mail: email", "    addr.zip: address.postal_code"].join("\n"),
  check(renames) {
    const issues: ConfigIssue[] = [];
    const entries = Object.entries(renames);
    for (const [from, to] of entries) {
      const problem = fieldPathProblem(from) ?? fieldPathProblem(to);
      if (problem !== undefined) issues.push({ path: [from], message: problem });
    }
    if (issues.length > 0) return issues;
    entries.forEach(([from, to], i) => {
      for (const [otherFrom, otherTo] of entries.slice(0, i)) {
        if (to === otherTo) {
          issues.push({ path: [from], message: `"${otherFrom}" and "${from}" are both renamed to "${to}"; rename only one of them` });
        } else if (fieldPathsOverlap(parseFieldPath(to), parseFieldPath(otherTo))) {
          issues.push({ path: [from], message: `the targets "${otherTo}" and "${to}" overlap (one lies inside the other); choose separate names` });
        }
        if (fieldPathsOverlap(parseFieldPath(from), parseFieldPath(otherFrom))) {
          issues.push({ path: [from], message: `"${otherFrom}" and "${from}" overlap (one lies inside the other); rename only one of them` });
        }
      }
    });
    return issues;
  },
  build(renames) {
    const root = newLevel();
    const moves: Move[] = [];
    for (const [fromText, toText] of Object.entries(renames)) {
      const from = parseFieldPath(fromText);
      const to = parseFieldPath(toText);
      let level = root;
      for (const segment of from.slice(0, -1)) {
        let child = level.children.get(segment);
        if (child === undefined) {
          child = newLevel();
          level.children.set(segment, child);
        }
        level = child;
      }
      const sourceKey = from[from.length - 1] as string;
      if (sameParent(from, to)) {
        const targetKey = to[to.length - 1] as string;
        level.sources.set(sourceKey, targetKey);
        level.replacedBy.set(targetKey, sourceKey);
      } else {
        level.sources.set(sourceKey, null);
        moves.push({ from, to });
      }
    }
    const writer = new FieldWriter(moves.map((move) => move.to));

    return {
      name: "rename",
      apply(message: Message): Message {
        const payload = message.payload;
        if (!isPlainObject(payload)) {
          throw transformFailed("rename", `the payload is ${describeValueType(payload)}; rename needs an object (add a \`map\` step before it to build one)`);
        }
        const renamed = renameLevel(payload, root);
        if (moves.length === 0) return withPayload(message, renamed);
        const values = moves.map((move) => {
          const value = readFieldPath(payload, move.from);
          return value === MISSING ? KEEP_FIELD : value;
        });
        try {
          return withPayload(message, writer.write(renamed, values));
        } catch (error) {
          if (error instanceof FieldWriteError) throw transformFailed("rename", error.message, { cause: error });
          throw error;
        }
      },
    };
  },
};

function newLevel(): RenameLevel {
  return { sources: new Map(), replacedBy: new Map(), children: new Map() };
}

function sameParent(a: FieldPath, b: FieldPath): boolean {
  return a.length === b.length && fieldPathsOverlap(a.slice(0, -1), b.slice(0, -1));
}

/** A copy of `source` with this level's renames applied in place and moved fields removed. */
function renameLevel(source: Record<string, unknown>, level: RenameLevel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    const target = level.sources.get(key);
    if (target !== undefined) {
      if (target !== null) setOwnField(out, target, value);
      continue;
    }
    const replacingSource = level.replacedBy.get(key);
    if (replacingSource !== undefined && Object.hasOwn(source, replacingSource)) continue;
    const child = level.children.get(key);
    setOwnField(out, key, child !== undefined && isPlainObject(value) ? renameLevel(value, child) : value);
  }
  return out;
}
