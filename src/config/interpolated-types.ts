import type { ConfigPath } from "./problems.js";
import { pathKey } from "./interpolation.js";
import { walkWithSchema } from "./schema/walk.js";

const NUMBER = /^[-+]?\d+(\.\d+)?$/;

/**
 * A value written as one `${VAR}` is a string after interpolation; where the schema wants a
 * number or a boolean (`port: ${PORT}`), it is converted back when it reads as one.
 */
export function restoreInterpolatedTypes(schema: unknown, value: unknown, at: ConfigPath, whollyInterpolated: ReadonlySet<string>): unknown {
  if (whollyInterpolated.size === 0) return value;
  return walkWithSchema(schema, value, [...at], (sub, inner, path) => {
    if (typeof inner !== "string" || !whollyInterpolated.has(pathKey(path))) return inner;
    const types = Array.isArray(sub.type) ? sub.type : [sub.type];
    const text = inner.trim();
    if ((types.includes("integer") || types.includes("number")) && NUMBER.test(text)) return Number(text);
    if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
    return inner;
  });
}
