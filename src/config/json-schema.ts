import type { TSchema } from "@sinclair/typebox";
import type { ConfigComponents } from "./loader.js";
import { TARGET_KEYS } from "./integration-targets.js";
import { connectionEngineProperties, endpointSchema, topLevelSchema } from "./schema/engine.js";

const SCHEMA_KEYWORDS = new Set([
  "$schema", "$id", "$ref", "$comment", "title", "description", "default", "readOnly", "writeOnly", "examples", "deprecated",
  "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
  "additionalItems", "items", "maxItems", "minItems", "uniqueItems", "contains", "maxProperties", "minProperties",
  "required", "additionalProperties", "definitions", "properties", "patternProperties", "dependencies", "propertyNames",
  "const", "enum", "type", "format", "contentMediaType", "contentEncoding", "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
]);
const SCHEMA_VALUED = new Set(["additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not"]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "definitions"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf"]);

type SchemaObject = Record<string, unknown>;

function isObject(value: unknown): value is SchemaObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A draft-07 JSON Schema of junction.yaml for editors (yaml-language-server): connection
 * blocks checked against their connector by `type`, transform steps as one-key maps.
 * Endpoint options are left open since they depend on the connection they name.
 */
export function buildJsonSchema(components: ConfigComponents): Record<string, unknown> {
  const types = components.connectors.map((spec) => spec.type);
  const connection: SchemaObject = {
    type: "object",
    properties: { ...connectionEngineProperties, type: { type: "string", enum: types, description: "Connector type." } },
    required: ["type"],
    allOf: components.connectors.map((spec) => ({
      if: { properties: { type: { const: spec.type } }, required: ["type"] },
      then: { ...withEngineKeys(spec.config as unknown as SchemaObject, spec.type), description: spec.summary },
    })),
  };
  const step: SchemaObject = {
    oneOf: components.transforms.map((spec) => ({
      type: "object",
      description: spec.summary,
      properties: { [spec.name]: { ...(spec.schema as unknown as SchemaObject), description: (spec.schema as { description?: string }).description ?? spec.summary } },
      required: [spec.name],
      additionalProperties: false,
    })),
  };
  const endpoint: SchemaObject = {
    ...(endpointSchema as unknown as SchemaObject),
    description: "`connection` names a connection; the other keys are that connector's source or target options.",
  };
  const root = clean(topLevelSchema(connection as unknown as TSchema, step as unknown as TSchema, endpoint as unknown as TSchema)) as SchemaObject;
  requireOneTargetKey(root);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Junction configuration (junction.yaml)",
    ...root,
  };
}

/**
 * Exactly one of target, targets and switch per integration. Validation checks this rule in
 * plain words; editors get it as a schema rule.
 */
function requireOneTargetKey(root: SchemaObject): void {
  const integrations = isObject(root.properties) ? root.properties.integrations : undefined;
  const integration = isObject(integrations) ? integrations.additionalProperties : undefined;
  if (isObject(integration)) integration.oneOf = TARGET_KEYS.map((key) => ({ required: [key] }));
}

/** The connector's connection schema with `type`, `required` and `resilience` allowed beside its own keys. */
function withEngineKeys(schema: SchemaObject, type: string): SchemaObject {
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const branches = schema[keyword];
    if (Array.isArray(branches)) return { ...schema, [keyword]: branches.map((b) => (isObject(b) ? withEngineKeys(b, type) : b)) };
  }
  if (!isObject(schema.properties) && schema.type !== "object") return schema;
  return {
    ...schema,
    properties: { ...connectionEngineProperties, type: { const: type }, ...(isObject(schema.properties) ? schema.properties : {}) },
  };
}

/** Plain JSON with only draft-07 keywords; TypeBox's symbols and our custom annotations are dropped (`secret` becomes `writeOnly`). */
function clean(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(clean);
  if (!isObject(schema)) return schema;
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_KEYWORDS.has(key) || value === undefined) continue;
    if (SCHEMA_VALUED.has(key)) out[key] = typeof value === "boolean" ? value : clean(value);
    else if (SCHEMA_MAPS.has(key) && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) out[key] = value.map(clean);
    else if (key === "items") out[key] = clean(value);
    else if (key === "dependencies" && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v : clean(v)]));
    else out[key] = JSON.parse(JSON.stringify(value)) as unknown;
  }
  if (schema.secret === true) out.writeOnly = true;
  return out;
}
