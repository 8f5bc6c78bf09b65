import type { PoolClient } from "pg";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import { copyIn, failedAtTransactionEnd } from "./copy-in.js";
import { copyDataMessages } from "./copy-text.js";
import { DeferredStatements } from "./deferred-statements.js";
import { isRowLevelPostgresError, isTransientPostgresError, sqlState } from "./postgres-errors.js";

/** One group of rows on its way into a table, inside the caller's transaction and savepoint. */
export interface GroupCopyTarget {
  /** `"schema"."table"`, validated. */
  table: string;
  /** Column names of the group, in the order of each row's values. */
  columns: readonly string[];
  /** The group's `ON CONFLICT …` clause (upsert), or "". */
  conflict: string;
  /** Quoted name for the temporary staging table. */
  stage: string;
  /** The savepoint the caller set just before; rolled back to when a straight COPY is refused. */
  savepoint: string;
}

/**
 * Whether rows can be COPY'd straight into the table, with the same outcome as COPY into a
 * temporary table and `INSERT … SELECT … ON CONFLICT`: an ordinary table (a partitioned,
 * foreign or view target is left to INSERT), no rules (COPY ignores them), no user triggers
 * (INSERT … ON CONFLICT fires UPDATE statement triggers too), no GENERATED ALWAYS identity
 * (COPY would override it where INSERT refuses), no row-level security, and for upsert an
 * immediate, valid unique index on exactly the key columns (what ON CONFLICT needs; a
 * deferred one would only complain at COMMIT). $1: the table; $2: the key columns, empty for append.
 */
const STRAIGHT_COPY_SQL = `SELECT c.relkind = 'r' AND NOT c.relhasrules AND NOT c.relrowsecurity
    AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
    AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = 'a')
    AND (cardinality($2::text[]) = 0 OR EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
        AND i.indnkeyatts = cardinality($2::text[])
        AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE k.n <= i.indnkeyatts ORDER BY 1)
          = ARRAY(SELECT unnest($2::text[]) ORDER BY 1)
    )) AS straight
  FROM pg_class c WHERE c.oid = to_regclass($1)`;

const UNIQUE_VIOLATION = "23505";

/**
 * Writes groups of rows with COPY. A group goes straight into the table when the table
 * allows it (see STRAIGHT_COPY_SQL) and has not yet refused one: one COPY instead of a
 * temporary table, a COPY into it and an `INSERT … SELECT`, which halves the server's
 * writes on a load into an empty table (a first full refresh, a replace run's staging
 * table). When a straight COPY meets a row that is already there (upsert), it is rolled
 * back to the caller's savepoint and the group takes the temporary-table path; so do all
 * later groups of this writer, since the table evidently holds rows of this source. Any
 * other row-level error is thrown as it is: the caller re-runs the group row by row, as
 * the temporary-table path would have led it to do.
 */
export class GroupCopier {
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  /** Table → whether groups may still go straight in. */
  readonly #straight = new Map<string, boolean>();

  constructor(keys: readonly string[], upsert: boolean) {
    this.#keys = keys;
    this.#upsert = upsert;
  }

  /**
   * Writes `rows`, each one line of COPY text without its newline. The statements pending
   * in `deferred` (the caller's BEGIN and savepoint) go out in the same Query as the COPY;
   * so does `end` (e.g. "RELEASE SAVEPOINT …; COMMIT"), after it, when the caller has
   * nothing else to do in the transaction: then a write is one round trip. An error from
   * `end` is marked as such (failedAtTransactionEnd).
   */
  async write(client: PoolClient, target: GroupCopyTarget, rows: ReadonlyArray<{ line: string }>, deferred = new DeferredStatements(), end?: string): Promise<void> {
    const columns = target.columns.map((column) => quoteIdentifier(column)).join(", ");
    const data = copyDataMessages(rows.map((row) => row.line));
    const ending = end === undefined ? "" : `; ${end}`;
    if (await this.#mayCopyStraight(client, target.table)) {
      try {
        await copyIn(client, `${deferred.lead(`COPY ${target.table} (${columns}) FROM STDIN`)}${ending}`, data, end === undefined ? undefined : 1);
        return;
      } catch (error) {
        const state = sqlState(error);
        // No SQLSTATE: the connection or the stream broke; transient: as good as broken. The caller handles both.
        if (state === undefined || isTransientPostgresError(error) || failedAtTransactionEnd(error)) throw error;
        if (isRowLevelPostgresError(error) && !(this.#upsert && state === UNIQUE_VIOLATION)) throw error;
        await client.query(`ROLLBACK TO SAVEPOINT ${target.savepoint}`);
        this.#straight.set(target.table, false);
      }
    }
    // One Query: the server runs the INSERT once the COPY's data is in, and stops at the first error.
    deferred.add(`CREATE TEMP TABLE ${target.stage} (LIKE ${target.table} INCLUDING DEFAULTS) ON COMMIT DROP`);
    const insert = `INSERT INTO ${target.table} (${columns}) SELECT ${columns} FROM ${target.stage}${target.conflict}`;
    await copyIn(client, `${deferred.lead(`COPY ${target.stage} (${columns}) FROM STDIN`)}; ${insert}${ending}`, data, end === undefined ? undefined : 2);
  }

  async #mayCopyStraight(client: PoolClient, table: string): Promise<boolean> {
    let straight = this.#straight.get(table);
    if (straight === undefined) {
      const result = await client.query<{ straight: boolean }>(STRAIGHT_COPY_SQL, [table, this.#upsert ? [...this.#keys] : []]);
      straight = result.rows[0]?.straight === true;
      this.#straight.set(table, straight);
    }
    return straight;
  }
}
