import { isDelete } from "../../core/message.js";
import type { Message, VerbatimColumns } from "../../core/message.js";
import { copyTextField } from "./copy-text-rows.js";
import type { CopyLineRow, RowGroup } from "./row-groups.js";
import { keyIdentity } from "./row-values.js";

/** The verbatim format of the postgres source: one line of `COPY … TO STDOUT` text output, payload columns only. */
export const POSTGRES_COPY_TEXT = "postgres-copy-text";

/**
 * Decides whether the rows of a write can go into the target table as the PostgreSQL
 * source wrote them (`message.verbatim`), skipping the decoding of every value into a
 * payload and its encoding back into COPY text, which were most of a sync's CPU.
 *
 * They can when every message of the write still carries its verbatim row (no transform
 * read or replaced a payload, nothing was retried), all from one described read, and the
 * table has every column of the read with exactly the same type (format_type): then the
 * text COPY reads is the text COPY wrote, parsed by the same type's input function, which
 * is what the payload would have become. Otherwise the write takes the payload path, which
 * also handles whatever the schema policy must do about a difference.
 */
export class VerbatimRowPlanner {
  readonly #keys: readonly string[];
  /** The target columns the fits below were computed against. */
  #target: ReadonlyMap<string, string> | undefined;
  /** Per column set: where each key column is among its columns, or null when the table does not take it as it is. */
  #fits = new WeakMap<VerbatimColumns, number[] | null>();

  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  /**
   * The write as one group of COPY lines, duplicate keys collapsed to the last copy; or
   * undefined when it must take the payload path (including when a key is missing, so that
   * the payload path reports it).
   */
  plan(messages: readonly Message[], target: ReadonlyMap<string, string>): RowGroup | undefined {
    const first = messages[0]?.verbatim;
    if (first === undefined || first.format !== POSTGRES_COPY_TEXT) return undefined;
    const keyAt = this.#fit(first.columns, target);
    if (keyAt === null) return undefined;
    const rows: Array<CopyLineRow | undefined> = new Array<CopyLineRow | undefined>(messages.length);
    const latest = keyAt.length === 0 ? undefined : new Map<string, number>();
    let superseded = 0;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as Message;
      const verbatim = message.verbatim;
      if (verbatim === undefined || verbatim.columns !== first.columns || verbatim.format !== POSTGRES_COPY_TEXT || isDelete(message)) return undefined;
      const line = verbatim.text;
      if (latest !== undefined) {
        const identity = lineKeyIdentity(line, keyAt);
        if (identity === undefined) return undefined;
        const earlier = latest.get(identity);
        if (earlier !== undefined) {
          rows[earlier] = undefined;
          superseded++;
        }
        latest.set(identity, index);
      }
      rows[index] = { index, line };
    }
    const kept = superseded === 0 ? (rows as CopyLineRow[]) : rows.filter((row): row is CopyLineRow => row !== undefined);
    return { columns: first.columns.names, rows: kept };
  }

  #fit(columns: VerbatimColumns, target: ReadonlyMap<string, string>): number[] | null {
    if (target !== this.#target) {
      this.#target = target;
      this.#fits = new WeakMap();
    }
    let fit = this.#fits.get(columns);
    if (fit === undefined) {
      const sameTypes = columns.names.every((name, at) => target.get(name) === columns.types[at]);
      const keyAt = this.#keys.map((key) => columns.names.indexOf(key));
      fit = sameTypes && !keyAt.includes(-1) ? keyAt : null;
      this.#fits.set(columns, fit);
    }
    return fit;
  }
}

/** The key's identity as the payload path computes it from the same text (keyIdentity); undefined when a key column is NULL. */
function lineKeyIdentity(line: string, keyAt: readonly number[]): string | undefined {
  if (keyAt.length === 1) return copyTextField(line, keyAt[0] as number) ?? undefined;
  const texts = keyAt.map((at) => copyTextField(line, at));
  return texts.includes(null) ? undefined : keyIdentity(texts);
}
