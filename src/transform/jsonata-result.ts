import { setOwnField } from "./field-path.js";

/**
 * JSONata builds objects without a prototype and tags arrays with `sequence` flags, and a
 * result may hold functions. Sinks, user code and `deepEqual` expect plain JSON-like data,
 * so results are rebuilt where needed: null-prototype objects become `{}` objects,
 * sequence arrays become plain arrays, functions are dropped (`null` inside arrays, like
 * JSON). Parts that need no change, such as sub-objects of the input, are shared as they are.
 */
export function toPlainData(value: unknown): unknown {
  if (typeof value === "function") return undefined;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return plainArray(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== null && prototype !== Object.prototype) return value; // Date, Buffer, …: data, not JSONata's
  return plainObject(value as Record<string, unknown>, prototype === null);
}

function plainArray(array: unknown[]): unknown[] {
  let out: unknown[] | undefined = Object.hasOwn(array, "sequence") ? array.slice() : undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    let plain = toPlainData(item);
    if (plain === undefined && item !== undefined) plain = null;
    if (plain !== item) {
      out ??= array.slice();
      out[i] = plain;
    }
  }
  return out ?? array;
}

function plainObject(object: Record<string, unknown>, nullPrototype: boolean): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(object);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = object[key];
    const plain = toPlainData(item);
    if (plain === item && out === undefined) continue;
    if (out === undefined) {
      out = {};
      for (let j = 0; j < i; j++) setOwnField(out, keys[j] as string, object[keys[j] as string]);
    }
    if (plain !== undefined) setOwnField(out, key, plain);
  }
  if (out !== undefined) return out;
  if (!nullPrototype) return object;
  const copy: Record<string, unknown> = {};
  for (const key of keys) setOwnField(copy, key, object[key]);
  return copy;
}
