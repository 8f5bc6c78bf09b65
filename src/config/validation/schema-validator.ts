import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { TSchema } from "@sinclair/typebox";
import { describeAjvErrors } from "./ajv-messages.js";
import type { LocatedIssue } from "./located-issue.js";

// ajv-formats is CommonJS with a `default` property; under NodeNext the default import is the module object.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const formatsModule = addFormatsModule as unknown as FormatsPlugin | { default: FormatsPlugin };
const addFormats: FormatsPlugin = typeof formatsModule === "function" ? formatsModule : formatsModule.default;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, addUsedSchema: false });
addFormats(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

/** Validates `data` against a schema; issues are relative to `data` and in plain words. */
export function validateAgainst(schema: TSchema | Record<string, unknown>, data: unknown): LocatedIssue[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(data)) return [];
  return describeAjvErrors(validate.errors ?? [], data);
}
