import { configError } from "../../core/errors.js";
import type { RecordSchema } from "../record-schema.js";
import { SchemaChangeGuard, dropFields, sampleValue } from "../shared/schema-change.js";
import type { TargetColumnsOptions } from "../shared/schema-change.js";
import type { TableName } from "../shared/sql-identifier.js";
import type { MysqlDatabase } from "./database.js";
import { mysqlFlavor, readMysqlColumns } from "./describe.js";
import type { MysqlTableColumn } from "./describe.js";
import { createTableSql } from "./table-creation.js";
import { addTargetColumn, createTargetTable } from "./target-table.js";
import type { MysqlFlavor } from "./type-mapping.js";
import { conversionOf } from "./write-values.js";
import type { ColumnConversion } from "./write-values.js";

export type MysqlTargetColumnsOptions = TargetColumnsOptions;

/** A row as the sink holds it: field names and values, in the same order. */
export interface MysqlFieldRow {
  columns: string[];
  values: unknown[];
}

/** The table a sink writes: its name for information_schema and its quoted form for SQL. */
export interface MysqlTargetTable {
  name: TableName;
  quoted: string;
}

/**
 * The target's side of a mysql sink's schema: creates the table (from the source's
 * declared schema, or from the first batch), applies on_schema_change at the start of a
 * run and to each batch's fields, and knows which columns need value conversions.
 */
export class MysqlTargetColumns {
  readonly #database: MysqlDatabase;
  readonly #options: MysqlTargetColumnsOptions;
  readonly #guard: SchemaChangeGuard;
  #schema: RecordSchema | undefined;
  #flavor: MysqlFlavor | undefined;
  /** The table the cached columns belong to (a replace run writes a staging table). */
  #table: MysqlTargetTable | undefined;
  #columns: MysqlTableColumn[] | undefined;

  constructor(database: MysqlDatabase, options: MysqlTargetColumnsOptions) {
    this.#database = database;
    this.#options = options;
    this.#guard = new SchemaChangeGuard({
      policy: options.policy,
      what: options.what,
      logger: options.logger,
      addColumn: async (name, type) => addTargetColumn(database, (this.#table as MysqlTargetTable).quoted, name, type, await this.#flavorOf()),
    });
  }

  /** Start of a run: create the missing table from `schema`, or check the table against it. */
  async begin(table: MysqlTargetTable, schema: RecordSchema | undefined): Promise<void> {
    this.#schema = schema;
    this.#guard.startRun(schema);
    this.#table = table;
    this.#columns = undefined;
    let columns = await readMysqlColumns(this.#database, table.name);
    if (columns.length === 0) {
      if (!this.#options.createTable) throw this.#noTable(table);
      // Without declared columns the table is created from the first batch.
      if (schema === undefined) return;
      await createTargetTable(this.#database, table.quoted, schema, this.#options.keys, await this.#flavorOf(), this.#options.only);
      columns = await readMysqlColumns(this.#database, table.name);
    }
    const known = names(columns);
    const only = this.#options.only === undefined ? undefined : new Set([...this.#options.only].map((name) => name.toLowerCase()));
    if (await this.#guard.reconcileSchema((name) => known.has(name.toLowerCase()), (name) => only === undefined || only.has(name.toLowerCase()))) {
      columns = await readMysqlColumns(this.#database, table.name);
    }
    this.#columns = columns;
  }

  /**
   * The value conversions of the table's columns for a batch about to be written. Fields
   * the table lacks are added (evolve), removed from `rows` (freeze; a row left with no
   * field is removed and counts as written) or stop the run (fail).
   */
  async conversionsFor(table: MysqlTargetTable, rows: MysqlFieldRow[]): Promise<Map<string, ColumnConversion>> {
    let columns = this.#table?.quoted === table.quoted ? this.#columns : undefined;
    this.#table = table;
    columns ??= await readMysqlColumns(this.#database, table.name);
    if (columns.length === 0 && this.#options.createTable) {
      if (this.#schema !== undefined) await createTargetTable(this.#database, table.quoted, this.#schema, this.#options.keys, await this.#flavorOf(), this.#options.only);
      else await this.#database.execute(createTableSql(table.quoted, rows, this.#options.keys));
      columns = await readMysqlColumns(this.#database, table.name);
    }
    if (columns.length === 0) throw this.#noTable(table);
    const known = names(columns);
    const unknown = new Set<string>();
    for (const row of rows) for (const name of row.columns) if (!known.has(name.toLowerCase())) unknown.add(name);
    if (unknown.size > 0) {
      const valueOf = (row: MysqlFieldRow, field: string): unknown => row.values[row.columns.indexOf(field)];
      const outcome = await this.#guard.reconcileFields(unknown, (name) => known.has(name.toLowerCase()), (name) => sampleValue(rows, valueOf, name));
      if (outcome.added) columns = await readMysqlColumns(this.#database, table.name);
      if (outcome.dropped.size > 0) dropFields(rows, outcome.dropped);
    }
    this.#columns = columns;
    const conversions = new Map<string, ColumnConversion>();
    for (const column of columns) {
      const conversion = conversionOf(column.info.dataType, column.info.jsonChecked);
      if (conversion !== undefined) conversions.set(column.name, conversion);
    }
    return conversions;
  }

  /** Read the columns again before the next write. */
  forget(): void {
    this.#columns = undefined;
  }

  async #flavorOf(): Promise<MysqlFlavor> {
    this.#flavor ??= await mysqlFlavor(this.#database);
    return this.#flavor;
  }

  #noTable(table: MysqlTargetTable): Error {
    return configError(`${this.#options.what}: table ${table.quoted} does not exist; create it, check the table name, or set create_table: true`, { code: "mysql.no_such_table" });
  }
}

function names(columns: readonly MysqlTableColumn[]): Set<string> {
  return new Set(columns.map((column) => column.name.toLowerCase()));
}
