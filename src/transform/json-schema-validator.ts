import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import type { ConfigIssue } from "../config/issues.js";
import { didYouMean } from "../config/did-you-mean.js";

/** A problem with a JSON Schema; `path` is relative to the schema's root. */
export type SchemaIssue = ConfigIssue;

export type CompiledSchema = { ok: true; validate: (payload: unknown) => boolean; errors: () => readonly ErrorObject[] } | { ok: false; issues: SchemaIssue[] };

const DRAFTS = [
  { marker: "2020-12", create: () => new Ajv2020(ajvOptions()) },
  { marker: "2019-09", create: () => new Ajv2019(ajvOptions()) },
  { marker: "draft-07", create: () => new Ajv(ajvOptions()) },
] as const;

function ajvOptions() {
  return {
    allErrors: true,
    // Unknown keywords and formats are errors: a misspelt `requried` would otherwise pass every payload.
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false as const,
    // No useDefaults / coerceTypes / removeAdditional: they modify the payload in place.
  };
}

/**
 * Compiles a JSON Schema (2020-12 by default, 2019-09 or draft-07 when `$schema` says so)
 * with the standard formats (`email`, `date-time`, `uri`, `uuid`, …). Never throws: an
 * unusable schema comes back as issues.
 */
export function compileJsonSchema(schema: Record<string, unknown>): CompiledSchema {
  const declared = schema["$schema"];
  const draft = declared === undefined ? DRAFTS[0] : DRAFTS.find((d) => typeof declared === "string" && declared.includes(d.marker));
  if (draft === undefined) {
    return {
      ok: false,
      issues: [
        {
          path: ["$schema"],
          message: `unsupported $schema ${JSON.stringify(declared)}: use "https://json-schema.org/draft/2020-12/schema" (the default when $schema is left out), 2019-09 or "http://json-schema.org/draft-07/schema#"`,
        },
      ],
    };
  }
  if (schema["$async"] === true) {
    return { ok: false, issues: [{ path: ["$async"], message: "asynchronous schemas ($async) are not supported; remove $async" }] };
  }
  const ajv = draft.create();
  addFormats(ajv);
  if (!(ajv.validateSchema(schema) as boolean)) {
    return { ok: false, issues: metaSchemaIssues(ajv.errors ?? []) };
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    return { ok: false, issues: [compileIssue(error, schema, ajv)] };
  }
  return { ok: true, validate: (payload) => validate(payload) as boolean, errors: () => validate.errors ?? [] };
}

// ajv-formats is CommonJS: the default import is its module.exports, which carries the plugin as `default`.
function addFormats(ajv: Ajv | Ajv2019 | Ajv2020): void {
  ajvFormats.default(ajv);
}

/** Ajv's compile errors, with a place in the schema and a suggestion where one can be found. */
function compileIssue(error: unknown, schema: Record<string, unknown>, ajv: Ajv | Ajv2019 | Ajv2020): SchemaIssue {
  const message = error instanceof Error ? error.message : String(error);
  const keyword = /^strict mode: unknown keyword: "(.*)"$/.exec(message)?.[1];
  if (keyword !== undefined) {
    return {
      path: keywordPath(schema, keyword) ?? [],
      message: `unknown keyword "${keyword}"${didYouMean(keyword, Object.keys(ajv.RULES.keywords))}; fix its spelling or remove it`,
    };
  }
  const format = /^unknown format "(.*)" ignored in schema at path "#(.*)"$/.exec(message);
  if (format !== null) {
    return {
      path: [...pointerSegments(format[2] ?? ""), "format"],
      message: `unknown format "${format[1]}"${didYouMean(format[1] ?? "", Object.keys(ajv.formats))}; use a standard format (email, date-time, uri, uuid, …) or remove it`,
    };
  }
  if (message.startsWith("can't resolve reference")) {
    return { path: [], message: `${message}; references to other files are not loaded: put shared definitions under $defs in the same schema` };
  }
  return { path: [], message: message.replace(/^strict mode: /, "") };
}

/** Keywords whose value maps names (not keywords) to subschemas. */
const NAMED_SUBSCHEMAS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"]);

/** Where a keyword appears in a schema, for pointing at an unknown one. */
function keywordPath(node: unknown, keyword: string, path: Array<string | number> = [], namesHere = false): Array<string | number> | undefined {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = keywordPath(node[i], keyword, [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof node !== "object" || node === null) return undefined;
  for (const [key, child] of Object.entries(node)) {
    if (!namesHere && key === keyword) return [...path, key];
    if (key === "enum" || key === "const" || key === "default" || key === "examples") continue; // data, not schemas
    const found = keywordPath(child, keyword, [...path, key], !namesHere && NAMED_SUBSCHEMAS.has(key));
    if (found) return found;
  }
  return undefined;
}

function metaSchemaIssues(errors: readonly ErrorObject[]): SchemaIssue[] {
  const byPath = new Map<string, SchemaIssue>();
  for (const error of errors) {
    if (byPath.has(error.instancePath)) continue; // the first error per place is the useful one
    const allowed = (error.params as Record<string, unknown>)["allowedValues"];
    const message = error.keyword === "enum" && Array.isArray(allowed) ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}` : (error.message ?? "is invalid");
    byPath.set(error.instancePath, { path: pointerSegments(error.instancePath), message });
  }
  return [...byPath.values()];
}

function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => {
      const text = segment.replace(/~1/g, "/").replace(/~0/g, "~");
      return /^(0|[1-9]\d*)$/.test(text) ? Number(text) : text;
    });
}

/** `<instancePath> <message>` for each violation, e.g. `/email must match format "email"`. */
export function describeViolation(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      if (typeof params["missingProperty"] === "string") return `${error.instancePath}/${params["missingProperty"]} is required`;
      break;
    case "additionalProperties":
      if (typeof params["additionalProperty"] === "string") return `${error.instancePath}/${params["additionalProperty"]} is not an allowed property`;
      break;
    case "enum":
      if (Array.isArray(params["allowedValues"])) return `${where} must be one of ${params["allowedValues"].map((v) => JSON.stringify(v)).join(", ")}`;
      break;
  }
  return `${where} ${error.message ?? "is invalid"}`;
}

/** Violations joined with "; ", at most `limit` of them, then "and N more". */
export function describeViolations(errors: readonly ErrorObject[], limit = 10): string {
  const shown = errors.slice(0, limit).map(describeViolation);
  if (errors.length > limit) shown.push(`and ${errors.length - limit} more`);
  return shown.join("; ");
}
