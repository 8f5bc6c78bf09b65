import { OPERATION_METADATA } from "../../core/message.js";
import type { Message } from "../../core/message.js";

/**
 * Whether a soft-delete column's value marks the row deleted: anything but NULL, false and
 * 0 (the false of MySQL's TINYINT(1) booleans and of SQLite's 0/1 flags). A deleted_at
 * timestamp, true, 1 or a text reason all mean deleted.
 */
export function isSoftDeleted(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false && value !== 0 && value !== 0n;
}

/** Marks `message` as a delete when its row's `column` says so; the payload stays the full row. */
export function applySoftDelete<M extends Message>(message: M, row: Readonly<Record<string, unknown>>, column: string | undefined): M {
  if (column !== undefined && isSoftDeleted(row[column])) message.metadata[OPERATION_METADATA] = "delete";
  return message;
}
