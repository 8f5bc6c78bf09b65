import { Type } from "@sinclair/typebox";
import type { TUnion, TLiteral } from "@sinclair/typebox";
import type { Logger } from "pino";
import { configError } from "../../core/errors.js";
import type { PortableType, RecordSchema } from "../record-schema.js";
import { inferPortableType, portableTypeLabel } from "./portable-types.js";

/** What a SQL target does with source columns (payload fields) it has no column for. */
export type SchemaChangePolicy = "evolve" | "freeze" | "fail";

export function schemaChangeField(): TUnion<[TLiteral<"evolve">, TLiteral<"freeze">, TLiteral<"fail">]> {
  return Type.Union([Type.Literal("evolve"), Type.Literal("freeze"), Type.Literal("fail")], {
    description:
      "When the source has columns (or payloads have fields) the table lacks, checked at the start of each run and on every write. evolve: ALTER TABLE ADD COLUMN (nullable; the source's declared type, else a type inferred from the values), logged once per column. freeze: the table never changes; those fields are dropped from rows, with one warning per column per run. fail: stop the run with a config error naming the columns. Default: fail.",
    default: "fail",
  });
}

/** How a SQL target creates its table and reacts to new fields; the same for every engine. */
export interface TargetColumnsOptions {
  /** "postgres target users", for logs and errors. */
  what: string;
  keys: readonly string[];
  createTable: boolean;
  /** The `columns` option plus the keys, when set. */
  only: ReadonlySet<string> | undefined;
  policy: SchemaChangePolicy;
  logger: Logger;
}

/** A row as parallel column and value lists (the mysql and sqlite targets). */
export interface ColumnValueRow {
  columns: string[];
  values: unknown[];
}

/** freeze: removes the dropped fields from every row, then the rows left with no field at all. */
export function dropFields<R extends ColumnValueRow>(rows: R[], dropped: ReadonlySet<string>): void {
  for (const row of rows) {
    for (let at = row.columns.length - 1; at >= 0; at--) {
      if (!dropped.has(row.columns[at] as string)) continue;
      row.columns.splice(at, 1);
      row.values.splice(at, 1);
    }
  }
  for (let at = rows.length - 1; at >= 0; at--) if ((rows[at] as R).columns.length === 0) rows.splice(at, 1);
}

export interface SchemaChangeGuardOptions {
  policy: SchemaChangePolicy;
  /** "postgres target users", for logs and errors. */
  what: string;
  logger: Logger;
  /** Adds one nullable column; a column that already exists (a concurrent writer) is not an error. */
  addColumn(name: string, type: PortableType): Promise<void>;
}

export interface FieldReconciliation {
  /** Columns were added: read the target's columns again. */
  added: boolean;
  /** Fields to leave out of every row (freeze). */
  dropped: ReadonlySet<string>;
}

const NOTHING: FieldReconciliation = { added: false, dropped: new Set() };

/**
 * Applies `on_schema_change` for one target: compares the source's declared columns (at
 * the start of a run) and the fields of each batch with the table's columns, then adds
 * the missing columns, drops the fields, or stops the run.
 */
export class SchemaChangeGuard {
  readonly #options: SchemaChangeGuardOptions;
  #schema: RecordSchema | undefined;
  #warned = new Set<string>();

  constructor(options: SchemaChangeGuardOptions) {
    this.#options = options;
  }

  /** A new run: the source's declared columns (when it knows them); freeze warnings start over. */
  startRun(schema: RecordSchema | undefined): void {
    this.#schema = schema;
    this.#warned = new Set();
  }

  /** The declared columns the table lacks (only those `writes` keeps); true when columns were added. */
  async reconcileSchema(targetHas: (name: string) => boolean, writes: (name: string) => boolean): Promise<boolean> {
    const missing = (this.#schema?.columns ?? []).map((column) => column.name).filter((name) => writes(name) && !targetHas(name));
    if (missing.length === 0) return false;
    return (await this.#resolve(missing, () => undefined)).added;
  }

  /** The fields of a batch the table lacks; `sample` gives a non-null value of a field when there is one. */
  async reconcileFields(fields: Iterable<string>, targetHas: (name: string) => boolean, sample: (name: string) => unknown): Promise<FieldReconciliation> {
    const missing = [...new Set(fields)].filter((name) => !targetHas(name));
    if (missing.length === 0) return NOTHING;
    return this.#resolve(missing, sample);
  }

  async #resolve(missing: string[], sample: (name: string) => unknown): Promise<FieldReconciliation> {
    const { policy, what, logger } = this.#options;
    if (policy === "fail") {
      const list = missing.join(", ");
      throw configError(
        `${what}: the source has ${missing.length === 1 ? "a column" : "columns"} the table lacks (${list}); add ${missing.length === 1 ? "it" : "them"} to the table, drop the ${missing.length === 1 ? "field" : "fields"} with a transform, or set on_schema_change: evolve (add missing columns) or freeze (ignore them)`,
        { code: "config.schema_changed", context: { columns: missing } },
      );
    }
    if (policy === "freeze") {
      for (const name of missing) {
        if (this.#warned.has(name)) continue;
        this.#warned.add(name);
        logger.warn({ target: what, column: name }, `${what}: field ${name} is not a column of the table; dropped from rows (on_schema_change: freeze)`);
      }
      return { added: false, dropped: new Set(missing) };
    }
    for (const name of missing) {
      const declared = this.#schema?.columns.find((column) => column.name === name)?.type;
      const type = declared ?? inferPortableType(sample(name)) ?? { kind: "text" };
      await this.#options.addColumn(name, type);
      logger.info({ target: what, column: name, type: portableTypeLabel(type), declared: declared !== undefined }, `${what}: added column ${name} (on_schema_change: evolve)`);
    }
    return { added: true, dropped: NOTHING.dropped };
  }
}

/** The first non-null value of `field` among `rows`, for typing a column added on the fly. */
export function sampleValue<R>(rows: readonly R[], valueOf: (row: R, field: string) => unknown, field: string): unknown {
  for (const row of rows) {
    const value = valueOf(row, field);
    if (value !== null && value !== undefined) return value;
  }
  return undefined;
}
