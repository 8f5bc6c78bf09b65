import type { PoolClient } from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { VerbatimColumns } from "../../core/message.js";
import { CopyColumnsChanged, CopyRowParser, CopyTextRowDecoder } from "./copy-text-rows.js";
import type { CopyColumns, TextParser } from "./copy-text-rows.js";
import type { PostgresDatabase } from "./database.js";
import { copyPageSql, pageSql } from "./source-query.js";
import type { SourcePlan } from "./source-query.js";
import { junctionTypes } from "./value-parsers.js";

/** Text of the `order` columns of a row: the keyset position right after it; undefined = the beginning. */
export type ReadPosition = string[] | undefined;

/** The payload columns of a page: described once, shared by every row read with them. */
export interface PageColumns extends CopyColumns {
  /** Names and SQL types (format_type), for targets that take the lines as they are. */
  verbatim: VerbatimColumns;
  /** Turns a line into the payload object node-postgres would have returned. */
  parser: CopyRowParser;
}

/** Rows read from the source, each with its position. */
export interface SourceRows {
  /** Each row's payload columns as COPY text (see CopyPage). */
  lines: string[];
  /** For each row, the text of its `order` columns. */
  positions: string[][];
  /** The columns of the lines; undefined only when there are none. */
  columns: PageColumns | undefined;
}

export interface KeysetPagesOptions {
  plan: SourcePlan;
  /** SQL types of the `order` columns (see `pageSql`). */
  types: readonly string[];
  /** Most rows handed out by one `read`. */
  batchSize: number;
  /** Rows per query; at least batchSize. */
  pageSize: number;
}

/**
 * Rows per query: a whole number of batches (so every batch but the last is full), at
 * least 500 rows so that small batches do not cost a round trip each. Two pages (the one
 * handed out and the one read ahead) are in memory at once. Larger pages bought nothing
 * measurable (2,000 and 5,000 rows were tried) and cost peak RSS.
 */
export function pageSizeFor(batchSize: number): number {
  return batchSize * Math.max(1, Math.ceil(500 / batchSize));
}

/** format_type of each (type oid, type modifier), in order: a table column's modifier keeps e.g. numeric(12,2). */
const FORMAT_TYPES_SQL = `SELECT format_type(t.oid, t.mod) AS type
  FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, mod, n) ORDER BY t.n`;

const NO_ROWS: SourceRows = Object.freeze({ lines: [], positions: [], columns: undefined }) as unknown as SourceRows;

/**
 * Reads a keyset-ordered table in pages of `pageSize` rows and hands them out `batchSize`
 * at a time. While a page is being handed out the next one is already being read (one page
 * ahead), so the source rarely waits for the database.
 *
 * Reads are keyed by position: `read(position)` continues the pages read ahead only when
 * `position` is where the last batch handed out ended; any other position (a nacked batch
 * rewound the source) drops what was read ahead and starts over from there.
 *
 * A page is read with `COPY (SELECT …) TO STDOUT` and split into lines here
 * (CopyTextRowDecoder); a line becomes a payload only when something reads it, with the
 * type parsers node-postgres would apply (CopyRowParser): the same values, for about a
 * fifth of the CPU of node-postgres' row parsing, and none at all for a row that a
 * PostgreSQL target copies as it is. COPY
 * output carries no column names or types, so the page's SELECT is described once (LIMIT
 * 0) and again if the number of columns changes.
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
  /** The page's columns, described on the first read. */
  #columns: PageColumns | undefined;

  constructor(database: PostgresDatabase, options: KeysetPagesOptions) {
    if (options.pageSize < options.batchSize) throw new RangeError("pageSize must be at least batchSize");
    this.#database = database;
    this.#options = options;
  }

  /** Up to batchSize rows after `position`; none when the table has no more (yet: a later read queries again). */
  async read(position: ReadPosition): Promise<SourceRows> {
    if (!this.#valid || !samePosition(position, this.#next)) this.#restart(position);
    if (this.#taken === this.#page.lines.length) {
      const pending = this.#ahead;
      if (pending === undefined && this.#last) {
        this.#valid = false;
        return NO_ROWS;
      }
      this.#ahead = undefined;
      const page = await (pending ?? this.#query(position));
      this.#page = page;
      this.#taken = 0;
      this.#last = page.lines.length < this.#options.pageSize;
      if (page.lines.length === 0) {
        this.#valid = false;
        return NO_ROWS;
      }
      if (!this.#last) this.#ahead = handled(this.#query(page.positions[page.lines.length - 1]));
    }
    const from = this.#taken;
    const to = Math.min(from + this.#options.batchSize, this.#page.lines.length);
    this.#taken = to;
    this.#next = this.#page.positions[to - 1];
    if (from === 0 && to === this.#page.lines.length) return this.#page;
    return { lines: this.#page.lines.slice(from, to), positions: this.#page.positions.slice(from, to), columns: this.#page.columns };
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
    const client = await this.#database.client();
    let failed: Error | undefined;
    // The connection failing between two messages (the database's own listener keeps that from
    // ending the process) marks the client for discarding at release.
    const onClientError = (error: Error): void => {
      failed ??= error;
    };
    client.on("error", onClientError);
    try {
      this.#columns ??= await this.#describe(client);
      try {
        return await this.#copyPage(client, this.#columns, position);
      } catch (error) {
        if (!(error instanceof CopyColumnsChanged)) throw error;
        this.#columns = await this.#describe(client);
        return await this.#copyPage(client, this.#columns, position);
      }
    } catch (error) {
      failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.removeListener("error", onClientError);
      // As pg's pool.query does: a client that failed a query is discarded.
      client.release(failed);
    }
  }

  async #copyPage(client: PoolClient, columns: PageColumns, position: ReadPosition): Promise<SourceRows> {
    const { plan, types, pageSize } = this.#options;
    const decoder = new CopyTextRowDecoder(columns);
    const stream = client.query(copyTo(copyPageSql(plan, types, position, pageSize)));
    // The loop below sees every error of the stream; this listener keeps one reported after
    // the loop (the connection failing between CopyDone and ReadyForQuery) from being uncaught.
    stream.on("error", () => undefined);
    for await (const chunk of stream) decoder.push(chunk as Buffer);
    return { ...decoder.end(), columns };
  }

  /** Names, types and type parsers of the page's columns, from the page's SELECT with LIMIT 0. */
  async #describe(client: PoolClient): Promise<PageColumns> {
    const { plan, types } = this.#options;
    const lag = plan.lagMs === undefined ? [] : [plan.lagMs / 1000];
    const result = await client.query({ text: pageSql(plan, types, false), values: [0, ...lag], rowMode: "array" });
    const payload = result.fields.slice(0, result.fields.length - plan.order.length);
    const names = payload.map((field) => field.name);
    // The pool's own parsers (database.ts sets types: junctionTypes), as node-postgres would apply them.
    const parsers = payload.map((field) => junctionTypes.getTypeParser(field.dataTypeID, "text") as TextParser);
    const typeNames = await client.query<{ type: string }>(FORMAT_TYPES_SQL, [payload.map((field) => field.dataTypeID), payload.map((field) => field.dataTypeModifier)]);
    return {
      names,
      parsers,
      positionColumns: plan.order.length,
      verbatim: { names, types: typeNames.rows.map((row) => row.type) },
      parser: new CopyRowParser({ names, parsers }),
    };
  }
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
