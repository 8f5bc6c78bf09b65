import type { ErrorObject } from "ajv";
import { didYouMean } from "../did-you-mean.js";
import { unitOf, UNIT_HINTS } from "../schema/units.js";
import { describeType, describeValue } from "./describe-value.js";
import type { LocatedIssue } from "./located-issue.js";

/**
 * Turns Ajv's errors (allErrors + verbose) into one human message per real mistake.
 * The branches of an anyOf/oneOf are collapsed: when the value has the shape of one
 * branch, that branch's errors are reported; otherwise one "expected X or Y" message.
 */
export function describeAjvErrors(errors: readonly ErrorObject[], data: unknown): LocatedIssue[] {
  const issues = convert(errors, data);
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${JSON.stringify(issue.path)}\u0000${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function isCombination(error: ErrorObject): boolean {
  return error.keyword === "anyOf" || error.keyword === "oneOf";
}

/** Whether `error` comes from inside one of the branches of `combination`. */
function within(error: ErrorObject, combination: ErrorObject): boolean {
  return error.schemaPath.startsWith(`${combination.schemaPath}/`) && (error.instancePath === combination.instancePath || error.instancePath.startsWith(`${combination.instancePath}/`));
}

function convert(errors: readonly ErrorObject[], data: unknown): LocatedIssue[] {
  const combinations = errors.filter(isCombination);
  const outermost = combinations.filter((c) => !combinations.some((other) => other !== c && within(c, other)));
  const consumed = new Set<ErrorObject>();
  const out: LocatedIssue[] = [];
  for (const combination of outermost) {
    const inside = errors.filter((e) => e !== combination && within(e, combination));
    for (const e of inside) consumed.add(e);
    consumed.add(combination);
    out.push(...collapse(combination, inside, data));
  }
  for (const error of errors) {
    if (consumed.has(error) || isCombination(error)) continue;
    out.push(...describe(error, data));
  }
  return out;
}

function collapse(combination: ErrorObject, inside: ErrorObject[], data: unknown): LocatedIssue[] {
  const path = pointerToPath(combination.instancePath, data);
  const value: unknown = combination.data;
  const unit = unitOf(combination.parentSchema);
  if (unit) return [{ path, message: `expected ${UNIT_HINTS[unit]}, got ${describeValue(value)}` }];

  const params = combination.params as { passingSchemas?: unknown };
  if (combination.keyword === "oneOf" && Array.isArray(params.passingSchemas)) {
    return [{ path, message: "matches more than one of the allowed forms; make it unambiguous" }];
  }

  const branches = Array.isArray(combination.schema) ? (combination.schema as unknown[]) : [];
  const errorsByBranch = new Map<number, ErrorObject[]>();
  for (const error of inside) {
    const rest = error.schemaPath.slice(combination.schemaPath.length + 1);
    const index = Number(rest.split("/")[0]);
    if (!Number.isInteger(index)) continue;
    errorsByBranch.set(index, [...(errorsByBranch.get(index) ?? []), error]);
  }

  // A branch "has the right shape" when none of its errors is about the value itself being the wrong kind.
  let best: ErrorObject[] | undefined;
  for (let i = 0; i < branches.length; i += 1) {
    const branchErrors = errorsByBranch.get(i) ?? [];
    const wrongShape = branchErrors.some((e) => e.instancePath === combination.instancePath && (e.keyword === "type" || e.keyword === "const" || e.keyword === "enum" || e.keyword === "false schema"));
    if (wrongShape || branchErrors.length === 0) continue;
    if (best === undefined || branchErrors.length < best.length) best = branchErrors;
  }
  if (best) return convert(best, data);

  const expectations = branches.map(describeExpectation);
  const literals = expectations.every((e) => e.literals !== undefined);
  if (literals) {
    const allowed = expectations.flatMap((e) => e.literals ?? []);
    return [{ path, message: oneOfMessage(allowed, value) }];
  }
  const described = [...new Set(expectations.map((e) => e.text))];
  return [{ path, message: `expected ${described.join(" or ")}, got ${describeValue(value)}` }];
}

function describeExpectation(schema: unknown): { text: string; literals?: unknown[] } {
  if (schema === null || typeof schema !== "object") return { text: "a value" };
  const s = schema as Record<string, unknown>;
  const unit = unitOf(s);
  if (unit) return { text: UNIT_HINTS[unit] };
  if ("const" in s) return { text: showLiteral(s.const), literals: [s.const] };
  if (Array.isArray(s.enum)) return { text: s.enum.map(showLiteral).join(" or "), literals: s.enum };
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const inner = ((s.anyOf ?? s.oneOf) as unknown[]).map(describeExpectation);
    const literals = inner.every((e) => e.literals !== undefined) ? inner.flatMap((e) => e.literals ?? []) : undefined;
    return literals ? { text: inner.map((e) => e.text).join(" or "), literals } : { text: inner.map((e) => e.text).join(" or ") };
  }
  if (s.type !== undefined) return { text: describeType(s.type) };
  if (s.properties !== undefined) return { text: describeType("object") };
  return { text: "a value" };
}

function showLiteral(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function oneOfMessage(allowed: readonly unknown[], value: unknown): string {
  const list = allowed.map(showLiteral).join(", ");
  if (typeof value !== "string") return `must be one of: ${list}; got ${describeValue(value)}`;
  const suggestion = didYouMean(value, allowed.filter((a): a is string => typeof a === "string"));
  return `must be one of: ${list}; got ${describeValue(value)}${suggestion}`;
}

function describe(error: ErrorObject, data: unknown): LocatedIssue[] {
  const path = pointerToPath(error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  const value: unknown = error.data;
  if (error.propertyName !== undefined) {
    return [{ path: [...path, error.propertyName], at: "key", message: `invalid key "${error.propertyName}": ${error.message ?? "not allowed"}` }];
  }
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(((error.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      const suggestion = didYouMean(key, allowed);
      const list = suggestion === "" && allowed.length > 0 && allowed.length <= 16 ? `; allowed keys: ${allowed.join(", ")}` : "";
      return [{ path: [...path, key], at: "key", message: `unknown key "${key}"${suggestion}${list}` }];
    }
    case "required":
      return [{ path, at: "key", message: `missing required key "${String(params.missingProperty)}"` }];
    case "dependencies":
    case "dependentRequired":
      return [{ path, at: "key", message: `"${String(params.property)}" requires "${String(params.missingProperty)}" to be set too` }];
    case "type":
      return [{ path, message: `expected ${describeType(params.type)}, got ${describeValue(value)}` }];
    case "const":
      return [{ path, message: `must be ${showLiteral(params.allowedValue)}, got ${describeValue(value)}` }];
    case "enum":
      return [{ path, message: oneOfMessage(Array.isArray(params.allowedValues) ? params.allowedValues : [], value) }];
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return [{ path, message: `must be ${String(params.comparison)} ${String(params.limit)}, got ${describeValue(value)}` }];
    case "multipleOf":
      return [{ path, message: `must be a multiple of ${String(params.multipleOf)}, got ${describeValue(value)}` }];
    case "minLength":
      return [{ path, message: params.limit === 1 ? "must not be empty" : `must be at least ${String(params.limit)} characters long` }];
    case "maxLength":
      return [{ path, message: `must be at most ${String(params.limit)} characters long` }];
    case "minItems":
      return [{ path, message: params.limit === 1 ? "must not be an empty list" : `must have at least ${String(params.limit)} items` }];
    case "maxItems":
      return [{ path, message: `must have at most ${String(params.limit)} items` }];
    case "minProperties":
      return [{ path, message: params.limit === 1 ? "must not be an empty map" : `must have at least ${String(params.limit)} keys` }];
    case "maxProperties":
      return [{ path, message: `must have at most ${String(params.limit)} keys` }];
    case "uniqueItems":
      return [{ path, message: `must not contain duplicates (items ${String(params.j)} and ${String(params.i)} are equal)` }];
    case "pattern":
      return [{ path, message: `must match the pattern ${String(params.pattern)}, got ${describeValue(value)}` }];
    case "format":
      return [{ path, message: `must be a valid ${String(params.format)}, got ${describeValue(value)}` }];
    case "not":
    case "false schema":
      return [{ path, message: "is not allowed here" }];
    case "if":
      return [];
    default:
      return [{ path, message: error.message ?? `is invalid (${error.keyword})` }];
  }
}

/** "/integrations/users/transform/0" → ["integrations", "users", "transform", 0], numbers only where the data is a list. */
export function pointerToPath(pointer: string, data: unknown): Array<string | number> {
  if (pointer === "") return [];
  const path: Array<string | number> = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}
