/**
 * Field paths in transform config: `email` is a top-level field, `address.city` the field
 * `city` of the object under `address`. Dots always mean nesting.
 */
export type FieldPath = readonly string[];

export function parseFieldPath(path: string): FieldPath {
  return path.split(".");
}

/** Why a path is unusable, or undefined when it is fine. */
export function fieldPathProblem(path: string): string | undefined {
  if (path.length === 0) return "a field path cannot be empty";
  if (parseFieldPath(path).some((segment) => segment.length === 0)) {
    return `"${path}" is not a valid field path: use names separated by single dots, e.g. "address.city"`;
  }
  return undefined;
}

/** True when one path is the other or lies inside it (`a` and `a.b`). */
export function fieldPathsOverlap(a: FieldPath, b: FieldPath): boolean {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A JSON-like object whose fields transforms may copy: `{}` literals, parsed JSON, database rows. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function describeValueType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return isPlainObject(value) ? "an object" : `a ${value.constructor?.name ?? "non-plain object"}`;
  return `a ${typeof value}`;
}

/** Assignment that cannot change an object's prototype, whatever the key. */
export function setOwnField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** The value at a path, or `missing` when some segment is absent or not an object. Own fields only. */
export function readFieldPath(root: unknown, path: FieldPath): unknown {
  let current = root;
  for (const segment of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, segment)) return MISSING;
    current = current[segment];
  }
  return current;
}

export const MISSING: unique symbol = Symbol("missing");
