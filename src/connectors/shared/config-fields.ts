import { Type } from "@sinclair/typebox";
import type { TInteger, TString, TUnion } from "@sinclair/typebox";
import { parseDuration } from "../../core/duration.js";
import { parseSize } from "../../core/size.js";

const DURATION_STRING = "^\\s*(\\d+|\\d+(\\.\\d+)?(ms|s|m|h|d))\\s*$";
const SIZE_STRING = "^\\s*(\\d+|\\d+(\\.\\d+)?\\s*([bB]|[kK][bB]|[mM][bB]|[gG][bB]))\\s*$";

export type UnitField = TUnion<[TString, TInteger]>;

/** A duration written as "250ms", "30s", "5m", "1h", "1d" or a number of milliseconds. */
export function durationField(description: string, defaultValue?: string): UnitField {
  return Type.Union([Type.String({ pattern: DURATION_STRING }), Type.Integer({ minimum: 0 })], {
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/** A size written as "512kb", "1mb" or a number of bytes. */
export function sizeField(description: string, defaultValue?: string): UnitField {
  return Type.Union([Type.String({ pattern: SIZE_STRING }), Type.Integer({ minimum: 0 })], {
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

export function batchSizeField(): TInteger {
  return Type.Integer({ minimum: 1, maximum: 100_000, description: "Messages per batch. Default: the integration's batching.count." });
}

/** Milliseconds of a schema-valid duration option, or the fallback when the option is absent. */
export function durationMs(value: string | number | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  return parseDuration(value) ?? fallbackMs;
}

/** Bytes of a schema-valid size option, or the fallback when the option is absent. */
export function sizeBytes(value: string | number | undefined, fallbackBytes: number): number {
  if (value === undefined) return fallbackBytes;
  return parseSize(value) ?? fallbackBytes;
}
