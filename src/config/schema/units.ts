import { Type } from "@sinclair/typebox";
import type { TUnion, TNumber, TInteger, TString, SchemaOptions } from "@sinclair/typebox";
import { DURATION_FORMAT_HINT } from "../../core/duration.js";
import { SIZE_FORMAT_HINT } from "../../core/size.js";

/**
 * Custom annotation naming a unit the loader validates and converts (durations → ms,
 * sizes → bytes). Validation errors for these fields show the accepted format instead of
 * the union's branches; the JSON Schema export drops it.
 */
export const UNIT_KEYWORD = "junctionUnit";
export type UnitKind = "duration" | "size";

// Exactly the forms parseDuration / parseSize accept.
const DURATION_PATTERN = "^\\s*\\d+(\\.\\d+)?(ms|s|m|h|d)?\\s*$";
const SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgG][bB])\\s*$|^\\s*\\d+\\s*$";

export const UNIT_HINTS: Record<UnitKind, string> = { duration: DURATION_FORMAT_HINT, size: SIZE_FORMAT_HINT };

/** `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1d"` or a number of milliseconds. */
export function durationSchema(options: SchemaOptions = {}): TUnion<[TNumber, TString]> {
  return Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], {
    [UNIT_KEYWORD]: "duration",
    examples: ["250ms", "30s", "5m"],
    ...options,
  });
}

/** `"512kb"`, `"1mb"`, `"1gb"` or a number of bytes. */
export function sizeSchema(options: SchemaOptions = {}): TUnion<[TInteger, TString]> {
  return Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
    [UNIT_KEYWORD]: "size",
    examples: ["512kb", "4mb"],
    ...options,
  });
}

/**
 * The unit a schema stands for: marked with UNIT_KEYWORD, or recognised as a union of a
 * number and a string whose pattern accepts duration (or size) text, as components may
 * declare their own duration fields.
 */
export function unitOf(schema: unknown): UnitKind | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  const s = schema as Record<string, unknown>;
  const unit = s[UNIT_KEYWORD];
  if (unit === "duration" || unit === "size") return unit;
  const branches = s.anyOf ?? s.oneOf;
  if (!Array.isArray(branches) || branches.length !== 2) return undefined;
  const pattern = branches.map((b) => (b as { type?: unknown; pattern?: unknown })).find((b) => b.type === "string" && typeof b.pattern === "string")?.pattern;
  const numeric = branches.some((b) => ["integer", "number"].includes(String((b as { type?: unknown }).type)));
  if (typeof pattern !== "string" || !numeric) return undefined;
  const accepts = (samples: string[]): boolean => {
    try {
      const regex = new RegExp(pattern, "u");
      return samples.every((sample) => regex.test(sample)) && !regex.test("abc");
    } catch {
      return false;
    }
  };
  if (accepts(["250ms", "30s", "5m"])) return "duration";
  if (accepts(["512kb", "1mb"])) return "size";
  return undefined;
}
