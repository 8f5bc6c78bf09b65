import type { FieldDef } from "pg";
import type { PostgresDatabase } from "./database.js";

type Row = Record<string, unknown>;

/** Text of the `order` columns of a row: the keyset position right after it; undefined = the beginning. */
export type ReadPosition = string[] | undefined;

/** Rows read from the source, each with its position. */
export interface SourceRows {
  /** The rows' columns, without the position copies. */
  rows: Row[];
  /** For each row, the text of its `order` columns. */
  positions: string[][];
}

export interface KeysetPagesOptions {
  /** SQL of the first page (parameters: limit, lag…) and of the pages after a position (position…, limit, lag…); see `pageSql`. */
  firstSql: string;
  nextSql: string;
  /** Number of `order` columns, whose `::text` copies end every row. */
  orderColumns: number;
  /** Most rows handed out by one `read`. */
  batchSize: number;
  /** Rows per query; at least batchSize. */
  pageSize: number;
  /** Parameters after the limit (the lag in seconds, when set). */
  extraParams: readonly unknown[];
}

/**
 * Rows per query: a whole number of batches (so every batch but the last is full), at
 * least 2,000 rows so that small batches do not cost a round trip each. Two pages (the one
 * handed out and the one read ahead) are in memory at once.
 */
export function pageSizeFor(batchSize: number): number {
  return batchSize * Math.max(1, Math.ceil(2000 / batchSize));
}

const NO_ROWS: SourceRows = Object.freeze({ rows: [], positions: [] }) as unknown as SourceRows;

/**
 * Reads a keyset-ordered table in pages of `pageSize` rows and hands them out `batchSize`
 * at a time. While a page is being handed out the next one is already being read (one page
 * ahead), so the source rarely waits for the database and a 1,000,000-row table takes
 * hundreds of round trips rather than thousands.
 *
 * Reads are keyed by position: `read(position)` continues the pages read ahead only when
 * `position` is where the last batch handed out ended; any other position (a nacked batch
 * rewound the source) drops what was read ahead and starts over from there. Rows come back
 * as arrays (no per-row object to delete the position copies from) and become payload
 * objects with a shared shape.
 */
export class KeysetPages {
  readonly #database: PostgresDatabase;
  readonly #options: KeysetPagesOptions;
  /** Whether the fields below continue from `#next`; false until the first read and after a rewind or the end. */
  #valid = false;
  /** Where the next batch starts: the position of the last row handed out. */
  #next: ReadPosition;
  #page: SourceRows = NO_ROWS;
  /** Rows of `#page` already handed out. */
  #taken = 0;
  /** `#page` was short: the table had no more rows when it was read. */
  #last = false;
  /** The page after `#page`, being read. */
  #ahead: Promise<SourceRows> | undefined;

  constructor(database: PostgresDatabase, options: KeysetPagesOptions) {
    if (options.pageSize < options.batchSize) throw new RangeError("pageSize must be at least batchSize");
    this.#database = database;
    this.#options = options;
  }

  /** Up to batchSize rows after `position`; none when the table has no more (yet: a later read queries again). */
  async read(position: ReadPosition): Promise<SourceRows> {
    if (!this.#valid || !samePosition(position, this.#next)) this.#restart(position);
    if (this.#taken === this.#page.rows.length) {
      const pending = this.#ahead;
      if (pending === undefined && this.#last) {
        this.#valid = false;
        return NO_ROWS;
      }
      this.#ahead = undefined;
      const page = await (pending ?? this.#query(position));
      this.#page = page;
      this.#taken = 0;
      this.#last = page.rows.length < this.#options.pageSize;
      if (page.rows.length === 0) {
        this.#valid = false;
        return NO_ROWS;
      }
      if (!this.#last) this.#ahead = handled(this.#query(page.positions[page.rows.length - 1]));
    }
    const from = this.#taken;
    const to = Math.min(from + this.#options.batchSize, this.#page.rows.length);
    this.#taken = to;
    this.#next = this.#page.positions[to - 1];
    if (from === 0 && to === this.#page.rows.length) return this.#page;
    return { rows: this.#page.rows.slice(from, to), positions: this.#page.positions.slice(from, to) };
  }

  #restart(position: ReadPosition): void {
    this.#valid = true;
    this.#next = position;
    this.#page = NO_ROWS;
    this.#taken = 0;
    this.#last = false;
    this.#ahead = undefined; // a page read ahead from elsewhere is dropped (its failure too: see `handled`)
  }

  async #query(position: ReadPosition): Promise<SourceRows> {
    const { firstSql, nextSql, pageSize, extraParams } = this.#options;
    const text = position === undefined ? firstSql : nextSql;
    const values = position === undefined ? [pageSize, ...extraParams] : [...position, pageSize, ...extraParams];
    const client = await this.#database.client();
    let failed: Error | undefined;
    try {
      const result = await client.query<unknown[]>({ text, values, rowMode: "array" });
      return toSourceRows(result.fields, result.rows, this.#options.orderColumns);
    } catch (error) {
      failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // As pg's pool.query does: a client that failed a query is discarded.
      client.release(failed);
    }
  }
}

/** Payload objects (every column but the trailing position copies) and positions of array rows. */
function toSourceRows(fields: readonly FieldDef[], arrays: readonly unknown[][], orderColumns: number): SourceRows {
  const width = fields.length - orderColumns;
  const names = fields.slice(0, width).map((field) => field.name);
  // Every payload starts as a copy of one template, so all share one shape (as pg's own rows do).
  const template: Row = {};
  for (const name of names) template[name] = null;
  const rows = new Array<Row>(arrays.length);
  const positions = new Array<string[]>(arrays.length);
  for (let at = 0; at < arrays.length; at++) {
    const values = arrays[at] as unknown[];
    const row: Row = { ...template };
    for (let column = 0; column < width; column++) row[names[column] as string] = values[column];
    rows[at] = row;
    positions[at] = values.slice(width) as string[];
  }
  return { rows, positions };
}

function samePosition(a: ReadPosition, b: ReadPosition): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let at = 0; at < a.length; at++) if (a[at] !== b[at]) return false;
  return true;
}

/** Marks a read-ahead as handled so that dropping it never raises an unhandled rejection; awaiting it still throws. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
