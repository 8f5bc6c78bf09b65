import { permanentError } from "../../core/errors.js";
import { isDelete } from "../../core/message.js";
import type { Message } from "../../core/message.js";
import type { MessageFailure } from "../types.js";

/** A message that deletes the target row with its key. */
export interface KeyDelete {
  /** Index of the message in the write. */
  index: number;
  /** The payload's values of the key columns, in key order; none is null. */
  values: unknown[];
}

/** What a SQL target does with the messages of one write beyond writing rows. */
export interface RowChanges {
  /**
   * Indexes the sink must not write as rows: every delete, and (when deletes are applied)
   * every message superseded by a later one with the same key. Empty when the write holds no delete.
   */
  skipped: ReadonlySet<number>;
  /** Deletes to apply, at most one per key, none for a key that a later message writes. */
  deletes: KeyDelete[];
  /** Deletes that cannot be applied, each failed permanently. */
  failures: MessageFailure[];
}

export interface RowChangeOptions {
  /** Key columns of the target; empty when it has none. */
  keys: readonly string[];
  /** The target's mode, for messages. */
  mode: string;
  /** True for merge (and replace with key): deletes remove rows. Otherwise a delete fails permanently. */
  appliesDeletes: boolean;
  /** "postgres target users", the start of every message. */
  what: string;
  /** The connector type, the prefix of error codes ("postgres"). */
  system: string;
}

/**
 * Splits one write into rows and deletes. When deletes are applied, messages are collapsed
 * per key with the last one winning: an insert then a delete of one key is a delete, a
 * delete then an insert is a write, so applying the deletes and the rows of one write in
 * any order gives the result of applying the messages in order. A message whose key is
 * missing is left to the sink, which fails it as it always has; a delete without its key
 * fails here. Without any delete in the write this is one pass and changes nothing.
 */
export function planRowChanges(messages: readonly Message[], options: RowChangeOptions): RowChanges {
  if (!messages.some(isDelete)) return { skipped: new Set(), deletes: [], failures: [] };
  const skipped = new Set<number>();
  const failures: MessageFailure[] = [];
  if (!options.appliesDeletes) {
    const error = deletesNotApplied(options);
    messages.forEach((message, index) => {
      if (!isDelete(message)) return;
      skipped.add(index);
      failures.push({ index, error });
    });
    return { skipped, deletes: [], failures };
  }

  const latest = new Map<string, number>();
  const deleteValues = new Map<number, unknown[]>();
  messages.forEach((message, index) => {
    const deleting = isDelete(message);
    const values = keyValues(message.payload, options.keys);
    if (typeof values === "string") {
      if (!deleting) return;
      skipped.add(index);
      failures.push({ index, error: missingKey(options, values) });
      return;
    }
    const identity = keyIdentity(values);
    const earlier = latest.get(identity);
    if (earlier !== undefined) skipped.add(earlier);
    latest.set(identity, index);
    if (deleting) {
      skipped.add(index);
      deleteValues.set(index, values);
    }
  });
  const deletes: KeyDelete[] = [];
  for (const index of latest.values()) {
    const values = deleteValues.get(index);
    if (values !== undefined) deletes.push({ index, values });
  }
  deletes.sort((a, b) => a.index - b.index);
  return { skipped, deletes, failures };
}

/** The key values of a payload, or the name of the first key column it lacks. */
function keyValues(payload: unknown, keys: readonly string[]): unknown[] | string {
  const fields = payload !== null && typeof payload === "object" && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
  const values: unknown[] = [];
  for (const key of keys) {
    const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (value === null || value === undefined) return key;
    values.push(value);
  }
  return values;
}

/**
 * One text per key, the same for values the database treats as equal: 7 and "7" are one
 * key (as they are once bound to an integer column), bytes compare as base64 (what the
 * sources emit), dates as ISO text.
 */
export function keyIdentity(values: readonly unknown[]): string {
  return JSON.stringify(values.map(keyText));
}

function keyText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return JSON.stringify(value, (_name, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner)) ?? String(value);
}

function deletesNotApplied(options: RowChangeOptions): Error {
  const hint = options.mode === "replace" ? "set key so that deletes remove the row with that key, or set mode: merge" : "set mode: merge to apply deletes";
  return permanentError(`${options.what}: mode ${options.mode} does not delete rows; ${hint}`, { code: `${options.system}.delete_not_applied` });
}

function missingKey(options: RowChangeOptions, missing: string): Error {
  return permanentError(
    `${options.what}: a delete needs the key (${options.keys.join(", ")}) in its payload to find the row, but ${missing} is missing or null; keep the key fields in the payload (check transforms and the columns option)`,
    { code: `${options.system}.bad_payload` },
  );
}
