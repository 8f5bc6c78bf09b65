import { configError } from "../../../core/errors.js";
import { durationMs } from "../../shared/config-fields.js";
import { parseTableName, quoteIdentifier } from "../../shared/sql-identifier.js";
import { columnNames } from "../schema.js";
import type { PostgresSourceOptions } from "../schema.js";

/** What a CDC source reads and where it keeps its position on the server. */
export interface CdcPlan {
  /** The table as configured; `metadata.table` of every message and part of its id. */
  label: string;
  schema: string;
  table: string;
  /** `"schema"."table"`, validated and quoted. */
  qualified: string;
  key: string[];
  /** Payload columns (key columns included), or undefined for all. */
  columns: ReadonlySet<string> | undefined;
  publication: string;
  slot: string;
  heartbeatMs: number;
  batchSize: number;
  /** Most changes decoded but not yet handed to the runner; the stream pauses beyond it. */
  queueCapacity: number;
}

/**
 * Slot names may only hold lower-case letters, digits and underscores (PostgreSQL's rule);
 * publication names follow it too because `publication_names` folds unquoted names to lower case.
 */
const REPLICATION_NAME = /^[a-z_][a-z0-9_]*$/;
const MAX_NAME_LENGTH = 63;

export function replicationNameProblem(name: string, what: "slot" | "publication"): string | undefined {
  if (REPLICATION_NAME.test(name) && name.length <= MAX_NAME_LENGTH) return undefined;
  return `${what} ${JSON.stringify(name)} is not a valid ${what} name: use lower-case letters, digits and underscores, not starting with a digit, at most ${MAX_NAME_LENGTH} characters`;
}

/** "junction_<integration>" made into a valid slot and publication name. */
export function defaultReplicationName(integration: string): string {
  const cleaned = `junction_${integration}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return cleaned.slice(0, MAX_NAME_LENGTH);
}

function replicationName(value: string | undefined, integration: string, what: "slot" | "publication"): string {
  const name = value ?? defaultReplicationName(integration);
  const problem = replicationNameProblem(name, what);
  if (problem !== undefined) throw configError(`postgres cdc source: ${problem}`, { code: "config.postgres_cdc" });
  return name;
}

export function planCdc(options: PostgresSourceOptions, defaultSchema: string, integration: string, defaultBatchSize: number): CdcPlan {
  if (options.table === undefined) throw configError("postgres cdc source: set table (cdc streams the changes of one table)", { code: "config.postgres_cdc" });
  const parsed = parseTableName(options.table);
  const schema = parsed.schema ?? defaultSchema;
  const key = columnNames(options.key);
  if (key.length === 0) throw configError("postgres cdc source: set key (the table's primary key or replica identity columns)", { code: "config.postgres_cdc" });
  for (const column of key) quoteIdentifier(column, "key column");
  for (const column of options.columns ?? []) quoteIdentifier(column);
  const batchSize = options.batch_size ?? defaultBatchSize;
  return {
    label: options.table,
    schema,
    table: parsed.table,
    qualified: `${quoteIdentifier(schema, "schema")}.${quoteIdentifier(parsed.table, "table")}`,
    key,
    columns: options.columns === undefined ? undefined : new Set([...options.columns, ...key]),
    publication: replicationName(options.publication, integration, "publication"),
    slot: replicationName(options.slot, integration, "slot"),
    heartbeatMs: Math.max(100, durationMs(options.heartbeat_interval, 10_000)),
    batchSize,
    queueCapacity: Math.max(2 * batchSize, 1000),
  };
}
