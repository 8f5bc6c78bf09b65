import type { Logger } from "pino";
import type { PoolClient } from "pg";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { POSTGRES_DATABASE_IDENTITY_SQL } from "../../state/postgres/database-identity.js";
import { planRowChanges } from "../shared/collapse-by-key.js";
import type { KeyDelete } from "../shared/collapse-by-key.js";
import { ColocatedCheckpoint } from "../shared/colocated-checkpoint.js";
import type { RowChangeOptions } from "../shared/collapse-by-key.js";
import { parseTableName, quoteIdentifier } from "../shared/sql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, SinkRunStart, WriteOptions, WriteOutcome } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { failedAtTransactionEnd } from "./copy-in.js";
import { copyTextFields } from "./copy-text-rows.js";
import { DeferredStatements } from "./deferred-statements.js";
import { deleteByKey } from "./merge-deletes.js";
import { isRowLevelPostgresError, postgresFailure } from "./postgres-errors.js";
import { PostgresReplaceStaging } from "./replace-staging.js";
import { GroupCopier } from "./group-copy.js";
import { groupRows } from "./row-groups.js";
import type { RowGroup } from "./row-groups.js";
import { columnKind, keyIdentity, payloadFields, toPostgresText } from "./row-values.js";
import { columnNames } from "./schema.js";
import type { PostgresSinkOptions } from "./schema.js";
import { PostgresTargetColumns } from "./target-columns.js";
import { readTargetColumns } from "./target-table.js";
import { VerbatimRowPlanner } from "./verbatim-rows.js";

interface PendingRow {
  index: number;
  fields: Map<string, unknown>;
}


export function createPostgresSink(database: PostgresDatabase, options: PostgresSinkOptions, ctx: SinkContext): Sink {
  const checkpoint = new ColocatedCheckpoint(ctx.sharedCheckpoints, async () => {
    const result = await database.query<{ identity: string }>(POSTGRES_DATABASE_IDENTITY_SQL);
    return result.rows[0]?.identity;
  });
  return new PostgresSink(database, options, ctx.logger, checkpoint);
}

class PostgresSink implements Sink {
  readonly #database: PostgresDatabase;
  readonly #label: string;
  /** `"schema"."table"`, validated; the staging table while a replace run is open. */
  #table: string;
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #changes: RowChangeOptions;
  readonly #replace: PostgresReplaceStaging | undefined;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  /** Column name → SQL type of the target, read on first write. */
  #columns: Map<string, string> | undefined;
  /** Creates the table, applies on_schema_change and caches the columns. */
  readonly #target: PostgresTargetColumns;
  /** COPYs each group, straight into the table when it can (see GroupCopier). */
  readonly #copier: GroupCopier;
  /** Takes rows from a PostgreSQL source as they are, when the table allows it. */
  readonly #verbatim: VerbatimRowPlanner;

  /** Commits the checkpoint with the rows when the target database is also the state store's. */
  readonly #checkpoint: ColocatedCheckpoint;

  constructor(database: PostgresDatabase, options: PostgresSinkOptions, logger: Logger, checkpoint: ColocatedCheckpoint) {
    this.#database = database;
    this.#checkpoint = checkpoint;
    this.#label = options.table;
    const table = parseTableName(options.table);
    this.#table = `${quoteIdentifier(table.schema ?? database.schema, "schema")}.${quoteIdentifier(table.table, "table")}`;
    this.#keys = columnNames(options.key);
    for (const key of this.#keys) quoteIdentifier(key, "key column");
    const mode = options.mode ?? (this.#keys.length > 0 ? "upsert" : "append");
    if ((mode === "upsert" || mode === "merge") && this.#keys.length === 0) {
      throw configError(`postgres target ${options.table}: mode ${mode} needs key (the column or columns of a PRIMARY KEY or UNIQUE constraint)`, { code: "config.postgres_sink" });
    }
    // replace writes its staging table like upsert when there is a key (a retried batch is harmless), like append otherwise.
    this.#upsert = mode !== "append" && this.#keys.length > 0;
    this.#changes = { keys: this.#keys, mode, appliesDeletes: this.#upsert && mode !== "upsert", what: `postgres target ${options.table}`, system: "postgres" };
    this.#replace = mode === "replace" ? new PostgresReplaceStaging(database, table.schema ?? database.schema, table.table, `postgres target ${options.table}`) : undefined;
    this.#createTable = options.create_table ?? false;
    if (options.columns !== undefined) for (const column of options.columns) quoteIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
    this.#copier = new GroupCopier(this.#keys, this.#upsert);
    this.#verbatim = new VerbatimRowPlanner(this.#keys);
    this.#target = new PostgresTargetColumns(database, {
      what: `postgres target ${options.table}`,
      keys: this.#keys,
      createTable: this.#createTable,
      only: this.#only,
      policy: options.on_schema_change ?? "fail",
      logger,
    });
  }

  get #what(): string {
    return `postgres target ${this.#label}`;
  }

  /** replace: a fresh staging table receives this run's writes. */
  async begin(run: SinkRunStart, _signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined) return this.#beginTarget(run);
    const targetExists = await this.#replace.prepare();
    if (!targetExists && !this.#createTable) {
      throw configError(`${this.#what}: table ${this.#replace.target} does not exist; create it, check the schema option, or set create_table: true`, { code: "postgres.no_such_table" });
    }
    this.#table = this.#replace.staging;
    this.#columns = undefined;
    await this.#beginTarget(run);
  }

  /** Creates the missing table from the source's declared columns, or checks the table against them (on_schema_change). */
  async #beginTarget(run: SinkRunStart): Promise<void> {
    try {
      await this.#target.begin(this.#table, run.schema);
    } catch (error) {
      throw postgresFailure(error, this.#what);
    }
  }

  /** replace: the run ended cleanly, the staging table becomes the target. */
  async complete(_signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined || this.#table !== this.#replace.staging) return;
    await this.#replace.swap();
    this.#table = this.#replace.target;
    this.#columns = undefined;
  }

  async write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("postgres write cancelled by shutdown", { code: "postgres.aborted" }));
    const verbatim = await this.#verbatimGroup(messages);
    if (verbatim !== undefined) return this.#commit([], [verbatim.group], verbatim.columns, [], options);

    const changes = planRowChanges(messages, this.#changes);
    const failures: MessageFailure[] = changes.failures;
    const rows = this.#rowsOf(messages, failures, changes.skipped);
    const deletes = changes.deletes;
    if (rows.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };

    let columns: Map<string, string>;
    try {
      // Deletes alone never create the table: with create_table, a missing table has nothing to delete.
      columns = rows.length === 0 && this.#createTable ? await readTargetColumns(this.#database, this.#table) : await this.#targetColumns(rows);
    } catch (error) {
      return this.#failRows([...rows, ...deletes], failures, postgresFailure(error, this.#what));
    }
    if (columns.size === 0) return { failures: sortByIndex(failures) };
    const groups = this.#group(rows, columns, failures);
    if (groups.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };
    return this.#commit(deletes, groups, columns, failures, options);
  }

  /**
   * The write as one group of the source's own COPY lines (see VerbatimRowPlanner), when
   * the table exists and takes them as they are; undefined sends it down the payload path.
   */
  async #verbatimGroup(messages: Message[]): Promise<{ group: RowGroup; columns: Map<string, string> } | undefined> {
    if (this.#only !== undefined || messages[0]?.verbatim === undefined) return undefined;
    let columns: Map<string, string> | undefined;
    try {
      columns = await this.#target.existing(this.#table);
    } catch {
      return undefined; // the payload path reports it
    }
    if (columns === undefined) return undefined;
    const group = this.#verbatim.plan(messages, columns);
    if (group === undefined) return undefined;
    this.#columns = columns;
    return { group, columns };
  }

  /** One transaction: the deletes, then each group, then the checkpoint when it lives in this database. */
  async #commit(deletes: KeyDelete[], groups: RowGroup[], columns: ReadonlyMap<string, string>, failures: MessageFailure[], options: WriteOptions | undefined): Promise<WriteOutcome> {
    const writing = [...deletes, ...groups.flatMap((group) => group.rows)];
    let client: PoolClient;
    try {
      client = await this.#database.client();
    } catch (error) {
      return this.#failRows(writing, failures, postgresFailure(error, this.#what));
    }
    let broken: Error | undefined;
    const rejected: MessageFailure[] = [];
    // BEGIN, savepoints and their releases ride along with the next statement (see DeferredStatements).
    const deferred = new DeferredStatements();
    try {
      deferred.add("BEGIN");
      if (deletes.length > 0) {
        await deferred.flush(client);
        const kinds = this.#keys.map((key) => columnKind(columns.get(key) ?? "text"));
        rejected.push(...(await deleteByKey(client, { table: this.#table, keys: this.#keys, kinds, what: this.#what }, deletes)));
      }
      // A lone group with nothing to do after it takes the COMMIT along (one round trip for the whole write).
      const commitWithGroup = groups.length === 1 && deletes.length === 0 && (options?.checkpoint === undefined || !(await this.#checkpoint.colocated()));
      for (const [number, group] of groups.entries()) {
        const outcome = await this.#writeGroup(client, group, number, deferred, commitWithGroup);
        if (outcome === "committed") return { failures: sortByIndex(failures) };
        rejected.push(...outcome);
      }
      const checkpoint = await this.#checkpoint.statement(options, failures.length + rejected.length);
      if (checkpoint !== undefined) {
        await deferred.flush(client);
        await client.query(checkpoint.sql, checkpoint.params);
      }
      await client.query(deferred.lead("COMMIT"));
      failures.push(...rejected);
      if (checkpoint !== undefined) return { failures: [], checkpointed: true };
    } catch (error) {
      broken = await rollbackQuietly(client, error);
      const failure = postgresFailure(error, this.#what);
      if (failure.kind === "config") {
        this.#columns = undefined;
        this.#target.forget();
      }
      return this.#failRows(writing, failures, failure);
    } finally {
      client.release(broken);
    }
    return { failures: sortByIndex(failures) };
  }

  /** Validates payloads and collapses duplicate keys to the last copy; `skipped` (deletes, superseded rows) are left out. */
  #rowsOf(messages: Message[], failures: MessageFailure[], skipped: ReadonlySet<number>): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
      if (skipped.has(index)) return;
      const converted = payloadFields(message.payload, this.#only);
      if (!converted.ok) {
        failures.push({ index, error: converted.error });
        return;
      }
      const row: PendingRow = { index, fields: converted.fields };
      if (this.#keys.length === 0) {
        rows.push(row);
        return;
      }
      const keyText = this.#keys.map((key) => toPostgresText(row.fields.get(key), "other"));
      const missing = this.#keys.find((_, at) => keyText[at] === null);
      if (missing !== undefined) {
        if (this.#upsert) {
          failures.push({ index, error: permanentError(`payload has no value for key column ${missing}; every row written by upsert needs its key`, { code: "postgres.bad_payload" }) });
        } else rows.push(row);
        return;
      }
      const identity = keyIdentity(keyText);
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  /** The table's columns, created and evolved as configured; fields dropped by on_schema_change: freeze leave `rows`. */
  async #targetColumns(rows: PendingRow[]): Promise<Map<string, string>> {
    this.#columns = await this.#target.columnsFor(this.#table, rows);
    return this.#columns;
  }

  /** Rows grouped by their column set, values as PostgreSQL text; a field the table lacks fails its message. */
  #group(rows: readonly PendingRow[], columns: ReadonlyMap<string, string>, failures: MessageFailure[]): RowGroup[] {
    const unknownColumn = (name: string): JunctionError =>
      permanentError(`${this.#what}: column ${name} does not exist in ${this.#table}; add the column or drop the field with a transform`, { code: "postgres.unknown_column" });
    return groupRows(rows, columns, unknownColumn, failures);
  }

  /**
   * One COPY, straight into the table or into a staging table and then one INSERT … SELECT
   * (GroupCopier). When a row breaks a constraint or a datatype rule, the group is re-run
   * row by row under savepoints: only the bad rows fail.
   */
  async #writeGroup(client: PoolClient, group: RowGroup, number: number, deferred: DeferredStatements, commit: boolean): Promise<MessageFailure[] | "committed"> {
    const stage = `"junction_stage_${number}"`;
    const columns = group.columns.map((column) => quoteIdentifier(column)).join(", ");
    deferred.add("SAVEPOINT junction_group");
    try {
      const target = { table: this.#table, columns: group.columns, conflict: this.#conflictClause(group.columns), stage, savepoint: "junction_group" };
      await this.#copier.write(client, target, group.rows, deferred, commit ? "RELEASE SAVEPOINT junction_group; COMMIT" : undefined);
      if (commit) return "committed";
      deferred.add("RELEASE SAVEPOINT junction_group");
      return [];
    } catch (error) {
      // After the rows: the COMMIT failed, and the transaction with it.
      if (!isRowLevelPostgresError(error) || failedAtTransactionEnd(error)) throw error;
      await client.query("ROLLBACK TO SAVEPOINT junction_group");
    }
    const failures: MessageFailure[] = [];
    const insert = `INSERT INTO ${this.#table} (${columns}) VALUES (${group.columns.map((_, at) => `$${at + 1}`).join(", ")})${this.#conflictClause(group.columns)}`;
    for (const row of group.rows) {
      await client.query("SAVEPOINT junction_row");
      try {
        await client.query(insert, copyTextFields(row.line, group.columns.length));
        await client.query("RELEASE SAVEPOINT junction_row");
      } catch (error) {
        if (!isRowLevelPostgresError(error)) throw error;
        await client.query("ROLLBACK TO SAVEPOINT junction_row");
        await client.query("RELEASE SAVEPOINT junction_row");
        failures.push({ index: row.index, error: postgresFailure(error, this.#what) });
      }
    }
    deferred.add("RELEASE SAVEPOINT junction_group");
    return failures;
  }

  #conflictClause(columns: readonly string[]): string {
    if (!this.#upsert) return "";
    const conflict = this.#keys.map((key) => quoteIdentifier(key, "key column")).join(", ");
    const updates = columns.filter((column) => !this.#keys.includes(column)).map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`);
    return updates.length === 0 ? ` ON CONFLICT (${conflict}) DO NOTHING` : ` ON CONFLICT (${conflict}) DO UPDATE SET ${updates.join(", ")}`;
  }

  #failRows(rows: ReadonlyArray<{ index: number }>, failures: MessageFailure[], error: JunctionError): WriteOutcome {
    for (const row of rows) failures.push({ index: row.index, error });
    return { failures: sortByIndex(failures) };
  }
}

function sortByIndex(failures: MessageFailure[]): MessageFailure[] {
  return failures.sort((a, b) => a.index - b.index);
}

/**
 * Rolls back whatever is open. Returns the error to release the client with when the
 * connection itself is suspect (so the pool discards it), undefined when it is reusable.
 */
async function rollbackQuietly(client: PoolClient, cause: unknown): Promise<Error | undefined> {
  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}
