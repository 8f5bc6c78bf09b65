import { errorKind } from "../core/errors.js";
import type { ErrorKind } from "../core/errors.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a class with any constructor shape
export type ErrorClass = abstract new (...args: any[]) => unknown;

/**
 * Which failures a policy acts on: a predicate, a list of error kinds (see `errorKind`), or a
 * list of error classes (`instanceof`).
 */
export type FailureFilter = ((error: unknown) => boolean) | { kinds: readonly ErrorKind[] } | { classes: readonly ErrorClass[] };

/** The predicate a `FailureFilter` describes. */
export function failurePredicate(filter: FailureFilter): (error: unknown) => boolean {
  if (typeof filter === "function") return filter;
  if ("kinds" in filter) {
    const kinds = new Set(filter.kinds);
    return (error) => kinds.has(errorKind(error));
  }
  const classes = filter.classes;
  return (error) => classes.some((c) => error instanceof c);
}
