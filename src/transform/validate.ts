import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { Type } from "@sinclair/typebox";
import { parse as parseYaml } from "yaml";
import { configError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import { compileJsonSchema, describeViolation, describeViolations } from "./json-schema-validator.js";
import { transformFailed } from "./transform-error.js";
import type { TransformBuildContext, TransformSpec } from "./types.js";

const inlineSchema = Type.Object(
  {
    schema: Type.Record(Type.String(), Type.Unknown(), {
      description: "The JSON Schema, written inline. 2020-12 unless its `$schema` names 2019-09 or draft-07.",
    }),
  },
  { additionalProperties: false },
);

const schemaFile = Type.Object(
  {
    schema_file: Type.String({
      minLength: 1,
      description: "Path of a JSON (or YAML) file holding the JSON Schema, relative to the config file. Read once at startup.",
    }),
  },
  { additionalProperties: false },
);

const schema = Type.Union([inlineSchema, schemaFile], {
  description:
    "The JSON Schema every payload must match, inline (`schema`) or in a file (`schema_file`). Standard formats " +
    "(`email`, `date-time`, `uri`, `uuid`, …) are checked. A payload that does not match is dead-lettered with every violation listed.",
});

/** Violations kept in the error context for dead letters and the API; the message shows fewer. */
const MAX_VIOLATIONS_IN_CONTEXT = 100;

export const validateTransform: TransformSpec<typeof schema> = {
  name: "validate",
  summary: "Checks every payload against a JSON Schema and dead-letters those that do not match, listing each violation.",
  schema,
  example: [
    "- validate:",
    "    schema:",
    "      type: object",
    "      required: [id, email]",
    "      properties:",
    "        id: { type: integer }",
    "        email: { type: string, format: email }",
    "        age: { type: integer, minimum: 0 }",
  ].join("\n"),
  check(value) {
    if (!("schema" in value)) return []; // a schema file is read when the step is built
    const compiled = compileJsonSchema(value.schema);
    return compiled.ok ? [] : compiled.issues.map((issue) => ({ path: ["schema", ...issue.path], message: issue.message }));
  },
  build(value, ctx) {
    const source = "schema" in value ? { schema: value.schema, where: "schema" } : { schema: readSchemaFile(value.schema_file, ctx), where: `schema_file "${value.schema_file}"` };
    const compiled = compileJsonSchema(source.schema);
    if (!compiled.ok) {
      const problems = compiled.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
      throw configError(`validate: the JSON Schema in ${source.where} is invalid: ${problems}`, { code: "transform.invalid_schema" });
    }
    const { validate, errors } = compiled;
    return {
      name: "validate",
      apply(message: Message): Message {
        if (validate(message.payload)) return message;
        const violations = errors();
        throw transformFailed("validate", describeViolations(violations), {
          context: { violations: violations.slice(0, MAX_VIOLATIONS_IN_CONTEXT).map(describeViolation) },
        });
      },
    };
  },
};

function readSchemaFile(file: string, ctx: TransformBuildContext): Record<string, unknown> {
  const path = resolve(ctx.baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as { code?: unknown }).code === "ENOENT" ? "the file does not exist" : error instanceof Error ? error.message : String(error);
    throw configError(`validate: cannot read schema_file "${file}" (${path}): ${reason}; the path is relative to the config file's directory`, {
      code: "transform.schema_file_unreadable",
      cause: error,
    });
  }
  let parsed: unknown;
  const format = [".yaml", ".yml"].includes(extname(path).toLowerCase()) ? "YAML" : "JSON";
  try {
    parsed = format === "YAML" ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw configError(`validate: schema_file "${file}" is not valid ${format}: ${error instanceof Error ? error.message : String(error)}`, {
      code: "transform.invalid_schema",
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw configError(`validate: schema_file "${file}" must hold a JSON Schema object`, { code: "transform.invalid_schema" });
  }
  return parsed as Record<string, unknown>;
}
