import { describeValueType, isPlainObject, setOwnField } from "./field-path.js";
import type { FieldPath } from "./field-path.js";

interface WriteNode {
  /** Index into the values array when a value is written at this node. */
  valueIndex: number | undefined;
  children: Map<string, WriteNode> | undefined;
  /** Dotted path of this node and of one path written below it, for error messages. */
  path: string;
  writtenPath: string;
}

/** Value that leaves the field as it is. */
export const KEEP_FIELD: unique symbol = Symbol("keep-field");

export class FieldWriteError extends Error {
  constructor(readonly path: string, readonly parentPath: string, parentValue: unknown) {
    super(`cannot set "${path}": "${parentPath}" is ${describeValueType(parentValue)}, not an object`);
    this.name = "FieldWriteError";
  }
}

/**
 * Writes values at a fixed set of field paths, copy-on-write: only the objects along the
 * written paths are copied, everything else is shared with the input. The paths are
 * arranged into a tree once, so each write copies every touched object exactly once.
 */
export class FieldWriter {
  readonly #root: WriteNode = { valueIndex: undefined, children: undefined, path: "", writtenPath: "" };

  /** `paths[i]` receives `values[i]` in `write`. */
  constructor(paths: readonly FieldPath[]) {
    paths.forEach((path, index) => {
      const writtenPath = path.join(".");
      let node = this.#root;
      for (const segment of path) {
        node.children ??= new Map();
        let child = node.children.get(segment);
        if (child === undefined) {
          child = { valueIndex: undefined, children: undefined, path: node.path === "" ? segment : `${node.path}.${segment}`, writtenPath };
          node.children.set(segment, child);
        }
        node = child;
      }
      node.valueIndex = index;
    });
  }

  /** A copy of `target` with the values written; intermediate objects are created as needed. Throws FieldWriteError. */
  write(target: Record<string, unknown>, values: readonly unknown[]): Record<string, unknown> {
    return writeNode(target, this.#root, values);
  }
}

function writeNode(target: Record<string, unknown>, node: WriteNode, values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  if (node.children === undefined) return out;
  for (const [key, child] of node.children) {
    if (child.valueIndex !== undefined) {
      const value = values[child.valueIndex];
      if (value !== KEEP_FIELD) setOwnField(out, key, value);
    }
    if (child.children !== undefined) {
      const existing = Object.hasOwn(out, key) ? out[key] : undefined;
      if (existing === undefined) {
        const created = writeNode({}, child, values);
        if (!isEmpty(created)) setOwnField(out, key, created);
      } else if (isPlainObject(existing)) {
        setOwnField(out, key, writeNode(existing, child, values));
      } else {
        throw new FieldWriteError(child.writtenPath, child.path, existing);
      }
    }
  }
  return out;
}

function isEmpty(object: Record<string, unknown>): boolean {
  for (const _key in object) return false;
  return true;
}
