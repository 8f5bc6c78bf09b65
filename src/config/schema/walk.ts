type SchemaObject = Record<string, unknown>;
export type SchemaVisitor = (schema: SchemaObject, value: unknown, path: Array<string | number>) => unknown;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Walks a value together with its JSON Schema and lets `visit` see (and replace) each value
 * with every subschema that describes it. Unions are followed into the branches whose type
 * fits the value (all branches when none fits). Objects are modified in place.
 */
export function walkWithSchema(schema: unknown, value: unknown, path: Array<string | number>, visit: SchemaVisitor): unknown {
  if (!isObject(schema)) return value;
  let current = value;
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf) current = walkWithSchema(part, current, path, visit);
  }
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    const fitting = branches.filter((branch) => fits(branch, current));
    for (const branch of fitting.length > 0 ? fitting : branches) current = walkWithSchema(branch, current, path, visit);
  }
  current = visit(schema, current, path);
  if (isObject(current)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    const patterns = isObject(schema.patternProperties) ? Object.entries(schema.patternProperties) : [];
    for (const [key, inner] of Object.entries(current)) {
      const sub = properties[key] ?? patterns.find(([pattern]) => safeTest(pattern, key))?.[1] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (sub !== undefined) current[key] = walkWithSchema(sub, inner, [...path, key], visit);
    }
  } else if (Array.isArray(current)) {
    const items = schema.items;
    for (let i = 0; i < current.length; i += 1) {
      const sub = Array.isArray(items) ? items[i] : items;
      if (sub !== undefined) current[i] = walkWithSchema(sub, current[i], [...path, i], visit);
    }
  }
  return current;
}

function safeTest(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, "u").test(key);
  } catch {
    return false;
  }
}

/** Whether the value has the JSON type (and constant) a schema asks for; schemas without either fit anything. */
function fits(schema: unknown, value: unknown): boolean {
  if (!isObject(schema)) return true;
  if ("const" in schema && schema.const !== value) return false;
  const type = schema.type;
  if (type === undefined) return true;
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case "string":
        return typeof value === "string";
      case "number":
        return typeof value === "number";
      case "integer":
        return Number.isInteger(value);
      case "boolean":
        return typeof value === "boolean";
      case "null":
        return value === null;
      case "array":
        return Array.isArray(value);
      case "object":
        return isObject(value);
      default:
        return true;
    }
  });
}
