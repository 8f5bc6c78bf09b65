import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { KeyDelete } from "../shared/collapse-by-key.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import type { MessageFailure } from "../types.js";
import { csvChunks } from "./copy-csv.js";
import { isRowLevelPostgresError, postgresFailure } from "./postgres-errors.js";
import { toPostgresText } from "./row-values.js";
import type { ColumnKind } from "./row-values.js";

export interface DeleteTarget {
  /** `"schema"."table"`, validated. */
  table: string;
  keys: readonly string[];
  /** How each key column takes its text (json, bytea, other). */
  kinds: readonly ColumnKind[];
  /** "postgres target users", for messages. */
  what: string;
}

const KEY_TABLE = `"junction_delete_keys"`;

/**
 * Deletes the rows with the keys of `deletes` inside the caller's transaction. The keys are
 * COPY'd into a temporary table made of the target's key columns (so each value is parsed
 * as its column's type and there is no bind-parameter ceiling), then one
 * `DELETE … USING` removes them; a key with no row deletes nothing. When that is rejected
 * for a row (a foreign key that restricts the delete, a trigger), the keys are deleted one
 * by one under savepoints so only those messages fail.
 */
export async function deleteByKey(client: PoolClient, target: DeleteTarget, deletes: readonly KeyDelete[]): Promise<MessageFailure[]> {
  if (deletes.length === 0) return [];
  const keys = target.keys.map((key) => quoteIdentifier(key, "key column"));
  const rows = deletes.map((row) => ({ index: row.index, values: row.values.map((value, at) => toPostgresText(value, target.kinds[at] ?? "other")) }));
  await client.query("SAVEPOINT junction_deletes");
  try {
    await client.query(`CREATE TEMP TABLE ${KEY_TABLE} ON COMMIT DROP AS SELECT ${keys.join(", ")} FROM ${target.table} WITH NO DATA`);
    const copy = client.query(copyFrom(`COPY ${KEY_TABLE} (${keys.join(", ")}) FROM STDIN WITH (FORMAT csv)`));
    await pipeline(Readable.from(csvChunks(rows.map((row) => row.values))), copy);
    const match = keys.map((key) => `t.${key} = d.${key}`).join(" AND ");
    await client.query(`DELETE FROM ${target.table} AS t USING ${KEY_TABLE} AS d WHERE ${match}`);
    await client.query(`DROP TABLE ${KEY_TABLE}`);
    await client.query("RELEASE SAVEPOINT junction_deletes");
    return [];
  } catch (error) {
    if (!isRowLevelPostgresError(error)) throw error;
    await client.query("ROLLBACK TO SAVEPOINT junction_deletes");
  }
  const failures: MessageFailure[] = [];
  const one = `DELETE FROM ${target.table} WHERE ${keys.map((key, at) => `${key} = $${at + 1}`).join(" AND ")}`;
  for (const row of rows) {
    await client.query("SAVEPOINT junction_delete_row");
    try {
      await client.query(one, row.values);
      await client.query("RELEASE SAVEPOINT junction_delete_row");
    } catch (error) {
      if (!isRowLevelPostgresError(error)) throw error;
      await client.query("ROLLBACK TO SAVEPOINT junction_delete_row");
      await client.query("RELEASE SAVEPOINT junction_delete_row");
      failures.push({ index: row.index, error: postgresFailure(error, target.what) });
    }
  }
  await client.query("RELEASE SAVEPOINT junction_deletes");
  return failures;
}
