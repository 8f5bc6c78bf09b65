import type { HeaderSource } from "./types.js";

export type HeaderValue = { kind: "value"; value: string } | { kind: "missing" } | { kind: "duplicate" };

function hasGet(headers: HeaderSource): headers is { get(name: string): string | null } {
  return typeof (headers as { get?: unknown }).get === "function";
}

function single(raw: unknown): HeaderValue {
  if (raw === undefined || raw === null) return { kind: "missing" };
  if (Array.isArray(raw)) {
    if (raw.length === 0) return { kind: "missing" };
    if (raw.length > 1) return { kind: "duplicate" };
    return single(raw[0]);
  }
  const value = String(raw).trim();
  return value === "" ? { kind: "missing" } : { kind: "value", value };
}

/**
 * Reads one header case-insensitively. The same header sent twice (an array, or two keys differing
 * only in case) is reported as a duplicate rather than guessed at: ambiguity is how signatures get smuggled.
 */
export function readHeader(headers: HeaderSource, name: string): HeaderValue {
  if (hasGet(headers)) return single(headers.get(name));
  const wanted = name.toLowerCase();
  let found: HeaderValue = { kind: "missing" };
  let seen = 0;
  for (const [key, raw] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || raw === undefined) continue;
    seen += 1;
    found = single(raw);
  }
  return seen > 1 ? { kind: "duplicate" } : found;
}
