import { JunctionError } from "../core/errors.js";

export function stateRecordNotFound(what: string, id: string): JunctionError {
  return new JunctionError(`${what} "${id}" does not exist in the state store; list them to find a valid id`, {
    kind: "permanent",
    code: "state.not_found",
    context: { id },
  });
}

/** Validates an optional limit/offset of a listing; undefined means "no bound". */
export function pageBound(value: number | undefined, name: "limit" | "offset"): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new JunctionError(`${name} must be a whole number >= 0, got ${String(value)}`, { kind: "permanent", code: "state.invalid_filter" });
  }
  return value;
}

/** The TTL of a claim or lease in milliseconds, rejected when it is not a finite number >= 0. */
export function ttlMilliseconds(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new JunctionError(`ttl must be a number of milliseconds >= 0, got ${String(ttlMs)}`, { kind: "permanent", code: "state.invalid_ttl" });
  }
  return Math.round(ttlMs);
}
