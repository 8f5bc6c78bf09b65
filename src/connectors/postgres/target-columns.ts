import { configError } from "../../core/errors.js";
import type { RecordSchema } from "../record-schema.js";
import { SchemaChangeGuard, sampleValue } from "../shared/schema-change.js";
import type { TargetColumnsOptions } from "../shared/schema-change.js";
import type { PostgresDatabase } from "./database.js";
import { createTableSql } from "./table-creation.js";
import { addTargetColumn, createTargetTable, readTargetColumns } from "./target-table.js";

export type PostgresTargetColumnsOptions = TargetColumnsOptions;

/** A row as the sink holds it: field name → value. */
export interface FieldRow {
  fields: Map<string, unknown>;
}

/**
 * The target's side of a postgres sink's schema: creates the table (from the source's
 * declared schema, or from the first batch when there is none), applies on_schema_change
 * at the start of a run and to each batch's fields, and caches the columns and their types.
 */
export class PostgresTargetColumns {
  readonly #database: PostgresDatabase;
  readonly #options: PostgresTargetColumnsOptions;
  readonly #guard: SchemaChangeGuard;
  #schema: RecordSchema | undefined;
  /** The table the cached columns belong to (a replace run writes a staging table). */
  #table: string | undefined;
  #columns: Map<string, string> | undefined;

  constructor(database: PostgresDatabase, options: PostgresTargetColumnsOptions) {
    this.#database = database;
    this.#options = options;
    this.#guard = new SchemaChangeGuard({
      policy: options.policy,
      what: options.what,
      logger: options.logger,
      addColumn: (name, type) => addTargetColumn(database, this.#table as string, name, type),
    });
  }

  /** Start of a run: create the missing table from `schema`, or check the table against it. */
  async begin(table: string, schema: RecordSchema | undefined): Promise<void> {
    this.#schema = schema;
    this.#guard.startRun(schema);
    this.#table = table;
    this.#columns = undefined;
    let columns = await readTargetColumns(this.#database, table);
    if (columns.size === 0) {
      if (!this.#options.createTable) throw this.#noTable(table);
      // Without declared columns the table is created from the first batch.
      if (schema === undefined) return;
      await createTargetTable(this.#database, table, schema, this.#options.keys, this.#options.only);
      columns = await readTargetColumns(this.#database, table);
    }
    const only = this.#options.only;
    if (await this.#guard.reconcileSchema((name) => columns.has(name), (name) => only === undefined || only.has(name))) {
      columns = await readTargetColumns(this.#database, table);
    }
    this.#columns = columns;
  }

  /**
   * The table's columns (name → SQL type) for a batch about to be written. Fields the
   * table lacks are added (evolve), removed from `rows` (freeze; a row left with no field
   * is removed and counts as written) or stop the run (fail).
   */
  async columnsFor(table: string, rows: FieldRow[]): Promise<Map<string, string>> {
    let columns = this.#table === table ? this.#columns : undefined;
    this.#table = table;
    columns ??= await readTargetColumns(this.#database, table);
    if (columns.size === 0 && this.#options.createTable) {
      if (this.#schema !== undefined) await createTargetTable(this.#database, table, this.#schema, this.#options.keys, this.#options.only);
      else await this.#database.query(createTableSql(table, rows.map((row) => row.fields), this.#options.keys));
      columns = await readTargetColumns(this.#database, table);
    }
    if (columns.size === 0) throw this.#noTable(table);
    const known = columns;
    const fields = new Set<string>();
    for (const row of rows) for (const name of row.fields.keys()) if (!known.has(name)) fields.add(name);
    if (fields.size > 0) {
      const outcome = await this.#guard.reconcileFields(fields, (name) => known.has(name), (name) => sampleValue(rows, (row, field) => row.fields.get(field), name));
      if (outcome.added) columns = await readTargetColumns(this.#database, table);
      if (outcome.dropped.size > 0) dropFields(rows, outcome.dropped);
    }
    this.#columns = columns;
    return columns;
  }

  /** The table's columns as they are (cached), or undefined when the table does not exist yet. */
  async existing(table: string): Promise<Map<string, string> | undefined> {
    let columns = this.#table === table ? this.#columns : undefined;
    if (columns === undefined) {
      columns = await readTargetColumns(this.#database, table);
      if (columns.size === 0) return undefined;
      this.#table = table;
      this.#columns = columns;
    }
    return columns;
  }

  /** Read the columns again before the next write (after a config error, e.g. a column dropped meanwhile). */
  forget(): void {
    this.#columns = undefined;
  }

  #noTable(table: string): Error {
    return configError(`${this.#options.what}: table ${table} does not exist; create it, check the schema option, or set create_table: true`, { code: "postgres.no_such_table" });
  }
}

function dropFields(rows: FieldRow[], dropped: ReadonlySet<string>): void {
  for (const row of rows) for (const name of dropped) row.fields.delete(name);
  for (let at = rows.length - 1; at >= 0; at--) if ((rows[at] as FieldRow).fields.size === 0) rows.splice(at, 1);
}
