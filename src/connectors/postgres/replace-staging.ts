import type { PoolClient } from "pg";
import { configError } from "../../core/errors.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import { replaceTableNames } from "../shared/staging-table-name.js";
import type { PostgresDatabase } from "./database.js";
import { postgresFailure } from "./postgres-errors.js";

/** PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes. */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * What is tied to the table itself, not its name, and that neither LIKE copies nor the
 * swap could carry over: views and materialized views and other tables' foreign keys
 * (they would follow the old table and block its drop), triggers and row-level security.
 */
const DEPENDENTS_SQL = `SELECT DISTINCT format('view %s', c.oid::regclass) AS what
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = r.ev_class
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass($1) AND c.oid <> d.refobjid
  UNION
  SELECT format('foreign key %I of %s', conname, conrelid::regclass) FROM pg_constraint
    WHERE contype = 'f' AND confrelid = to_regclass($1) AND conrelid <> confrelid
  UNION
  SELECT format('trigger %I', tgname) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal
  UNION
  SELECT 'row-level security' FROM pg_class WHERE oid = to_regclass($1) AND (relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = to_regclass($1)))
  ORDER BY 1`;

/** GRANTs of the target ($1), replayed on the staging table ($2). */
const GRANTS_SQL = `SELECT format('GRANT %s ON %s TO %s%s', a.privilege_type, $2::text,
    CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
    CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS sql
  FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
  WHERE c.oid = to_regclass($1)`;

/** Sequences of serial columns owned by the target ($1), handed to the same column of the new table ($2) so dropping the old one keeps them. */
const SEQUENCES_SQL = `SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I', d.objid::regclass, $2::text, a.attname) AS sql
  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.refobjid = to_regclass($1) AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refobjsubid > 0`;

/** One signature per index, equal for an index and its LIKE copy: method, uniqueness, columns by name, opclasses, expressions, predicate. */
const INDEX_SIGNATURES = `SELECT i.indexrelid, c.relname, c.relnamespace,
    concat_ws('|', c.relam, i.indisunique, i.indisprimary, i.indclass::text, i.indoption::text,
      (SELECT string_agg(coalesce(a.attname, '#'), ',' ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
      pg_get_expr(i.indexprs, i.indrelid), pg_get_expr(i.indpred, i.indrelid)) AS signature
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid`;

/**
 * `ALTER INDEX` statements giving the indexes of the staging table ($2) the names of the
 * matching indexes of the target ($1), run once the target is dropped; a staging index with
 * no match that starts with the staging name ($3) gets the target name ($4) instead, when no
 * relation has that name. So the index and constraint names (users_pkey) stay the same from
 * one run to the next.
 */
const INDEX_RENAMES_SQL = `WITH old AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.signature ORDER BY s.indexrelid) AS n FROM (${INDEX_SIGNATURES} WHERE i.indrelid = to_regclass($1)) s),
  new AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.signature ORDER BY s.indexrelid) AS n FROM (${INDEX_SIGNATURES} WHERE i.indrelid = to_regclass($2)) s)
  SELECT format('ALTER INDEX %s RENAME TO %I', new.indexrelid::regclass, coalesce(old.relname, $4::text || substr(new.relname, length($3::text) + 1))) AS sql
  FROM new LEFT JOIN old ON old.signature = new.signature AND old.n = new.n
  WHERE old.relname IS NOT NULL OR (starts_with(new.relname, $3::text) AND octet_length($4::text || substr(new.relname, length($3::text) + 1)) <= ${MAX_IDENTIFIER_BYTES}
    AND NOT EXISTS (SELECT 1 FROM pg_class AS taken WHERE taken.relnamespace = new.relnamespace AND taken.relname = $4::text || substr(new.relname, length($3::text) + 1)))`;

/**
 * The staging table of a `replace` target: created like the target at the start of a run,
 * filled by the run, and swapped in by renames in one transaction when the run completes.
 * A run that fails or is stopped never swaps; its staging table is dropped at the next start.
 */
export class PostgresReplaceStaging {
  /** `"schema"."table"` of the target. */
  readonly target: string;
  /** `"schema"."<table>__junction_staging"`. */
  readonly staging: string;
  readonly #database: PostgresDatabase;
  readonly #schema: string;
  readonly #table: string;
  readonly #names: { staging: string; old: string };
  readonly #what: string;

  constructor(database: PostgresDatabase, schema: string, table: string, what: string) {
    this.#database = database;
    this.#schema = schema;
    this.#table = table;
    this.#names = replaceTableNames(table, MAX_IDENTIFIER_BYTES);
    this.#what = what;
    this.target = this.#qualified(table);
    this.staging = this.#qualified(this.#names.staging);
  }

  /**
   * Drops a staging table left by a failed or stopped run, refuses a target that views or
   * foreign keys refer to (the swap could not drop it), and creates the staging table
   * `LIKE target INCLUDING ALL`. Returns false when the target does not exist yet: the sink
   * then creates the staging table the way it would create the target.
   */
  async prepare(): Promise<boolean> {
    try {
      await this.#database.query(`DROP TABLE IF EXISTS ${this.staging}`);
      await this.#database.query(`DROP TABLE IF EXISTS ${this.#qualified(this.#names.old)}`);
      const exists = (await this.#database.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [this.target])).rows[0]?.found === true;
      if (!exists) return false;
      await this.#refuseDependents(this.#database.query.bind(this.#database));
      await this.#database.query(`CREATE TABLE ${this.staging} (LIKE ${this.target} INCLUDING ALL)`);
      return true;
    } catch (error) {
      throw postgresFailure(error, `${this.#what}: preparing the staging table ${this.staging}`);
    }
  }

  /**
   * In one transaction: the target's grants are replayed on the staging table, the target is
   * renamed away, the staging table takes its name, serial sequences move over, the old
   * table is dropped and the indexes take back their names. Readers keep seeing the old
   * table until the commit; a query that waits on the swap's lock reads the new one.
   */
  async swap(): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.#database.client();
    } catch (error) {
      throw postgresFailure(error, `${this.#what}: swapping in ${this.staging}`);
    }
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const found = await client.query<{ target: boolean; staging: boolean }>("SELECT to_regclass($1) IS NOT NULL AS target, to_regclass($2) IS NOT NULL AS staging", [this.target, this.staging]);
      const { target, staging } = found.rows[0] ?? { target: false, staging: false };
      if (!staging) {
        if (target) throw configError(`${this.#what}: the staging table ${this.staging} is gone (dropped by someone else?); the target is left as it was, run again`, { code: "postgres.no_staging" });
      } else if (target) {
        await this.#swapInto(client);
      } else {
        await this.#renameInto(client);
      }
      await client.query("COMMIT");
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = error instanceof Error ? error : new Error(String(error));
      }
      throw postgresFailure(error, `${this.#what}: swapping in ${this.staging}`);
    } finally {
      client.release(broken);
    }
  }

  async #swapInto(client: PoolClient): Promise<void> {
    await client.query(`LOCK TABLE ${this.target} IN ACCESS EXCLUSIVE MODE`);
    await this.#refuseDependents((sql, values) => client.query(sql, values));
    await runStatements(client, GRANTS_SQL, [this.target, this.staging]);
    const indexRenames = await statements(client, INDEX_RENAMES_SQL, [this.target, this.staging, this.#names.staging, this.#table]);
    const old = this.#qualified(this.#names.old);
    await client.query(`ALTER TABLE ${this.target} RENAME TO ${quoteIdentifier(this.#names.old, "table")}`);
    await client.query(`ALTER TABLE ${this.staging} RENAME TO ${quoteIdentifier(this.#table, "table")}`);
    await runStatements(client, SEQUENCES_SQL, [old, this.target]);
    await client.query(`DROP TABLE ${old}`);
    for (const sql of indexRenames) await client.query(sql);
  }

  /** The target did not exist: the staging table (created by create_table) simply takes its name. */
  async #renameInto(client: PoolClient): Promise<void> {
    const indexRenames = await statements(client, INDEX_RENAMES_SQL, [this.target, this.staging, this.#names.staging, this.#table]);
    await client.query(`ALTER TABLE ${this.staging} RENAME TO ${quoteIdentifier(this.#table, "table")}`);
    for (const sql of indexRenames) await client.query(sql);
  }

  async #refuseDependents(query: (sql: string, values: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>): Promise<void> {
    const dependents = (await query(DEPENDENTS_SQL, [this.target])).rows.map((row) => String(row.what));
    if (dependents.length === 0) return;
    throw configError(
      `${this.#what}: mode replace swaps in a new table, but ${this.target} has ${dependents.join(", ")}, which PostgreSQL ties to the table itself, not its name: they would stay with the old table and block or be lost with its drop; remove them or use mode upsert or merge`,
      { code: "postgres.replace_dependents" },
    );
  }

  #qualified(table: string): string {
    return `${quoteIdentifier(this.#schema, "schema")}.${quoteIdentifier(table, "table")}`;
  }
}

async function statements(client: PoolClient, sql: string, values: unknown[]): Promise<string[]> {
  return (await client.query<{ sql: string }>(sql, values)).rows.map((row) => row.sql);
}

/** Runs the statements that `sql` generates (built server-side with format() and %I, so names are quoted by PostgreSQL). */
async function runStatements(client: PoolClient, sql: string, values: unknown[]): Promise<void> {
  for (const statement of await statements(client, sql, values)) await client.query(statement);
}
