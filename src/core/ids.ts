import { randomBytes, randomUUID } from "node:crypto";

/** A random RFC 4122 v4 id. */
export function newId(): string {
  return randomUUID();
}

/**
 * A time-ordered id (ms timestamp + random), sortable as a string, so that listings
 * ordered by id are ordered by creation.
 */
export function newSortableId(now: number = Date.now()): string {
  return now.toString(36).padStart(9, "0") + randomBytes(8).toString("hex");
}
