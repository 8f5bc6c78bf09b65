import type { PostgresDatabase } from "../database.js";
import { postgresFailure, sqlState } from "../postgres-errors.js";
import { isLsnText, parseLsn } from "./lsn.js";
import type { Lsn } from "./lsn.js";

/** A row of pg_replication_slots, as far as the CDC source cares. */
export interface SlotState {
  name: string;
  slotType: string;
  plugin: string | null;
  database: string | null;
  confirmedFlush: Lsn | undefined;
  /** "reserved", "extended", "unreserved" or "lost" (PostgreSQL 13+). */
  walStatus: string | undefined;
  /** The server gave the slot up: its WAL was removed (wal_status lost) or it conflicted on a standby. */
  invalidated: boolean;
  activePid: number | null;
}

export interface SlotLag {
  /** WAL the server keeps for the slot (from its restart_lsn to the current end of WAL). */
  retainedBytes: number;
  /** WAL written since the last position acknowledged. */
  unacknowledgedBytes: number;
  walStatus: string | undefined;
}

const DUPLICATE_OBJECT = "42710";

/** The slot, or undefined when there is none. Read through to_jsonb so columns added by newer servers are optional. */
export async function readSlot(database: PostgresDatabase, name: string): Promise<SlotState | undefined> {
  let row: Record<string, unknown> | undefined;
  try {
    row = (await database.query<{ slot: Record<string, unknown> }>("SELECT to_jsonb(s) AS slot FROM pg_replication_slots s WHERE s.slot_name = $1", [name])).rows[0]?.slot;
  } catch (error) {
    throw postgresFailure(error, `postgres cdc source: reading replication slot ${name}`);
  }
  if (row === undefined) return undefined;
  const walStatus = typeof row.wal_status === "string" ? row.wal_status : undefined;
  return {
    name,
    slotType: String(row.slot_type),
    plugin: typeof row.plugin === "string" ? row.plugin : null,
    database: typeof row.database === "string" ? row.database : null,
    confirmedFlush: isLsnText(row.confirmed_flush_lsn) ? parseLsn(row.confirmed_flush_lsn) : undefined,
    walStatus,
    invalidated: walStatus === "lost" || row.conflicting === true || (typeof row.invalidation_reason === "string" && row.invalidation_reason !== ""),
    activePid: typeof row.active_pid === "number" ? row.active_pid : null,
  };
}

/** Creates a pgoutput slot; when another instance created it first, returns what it made. */
export async function createSlot(database: PostgresDatabase, name: string): Promise<SlotState> {
  try {
    await database.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
  } catch (error) {
    if (sqlState(error) !== DUPLICATE_OBJECT) throw postgresFailure(error, `postgres cdc source: creating replication slot ${name}`);
  }
  const slot = await readSlot(database, name);
  if (slot === undefined) throw postgresFailure(new Error(`replication slot ${name} vanished right after it was created`), "postgres cdc source");
  return slot;
}

export async function currentDatabase(database: PostgresDatabase): Promise<string> {
  try {
    return String((await database.query<{ name: string }>("SELECT current_database() AS name")).rows[0]?.name);
  } catch (error) {
    throw postgresFailure(error, "postgres cdc source: reading the database name");
  }
}

/**
 * How far the server's WAL is durable now: a run of a once trigger reads up to here. Every
 * transaction committed with synchronous_commit = on is before it; one committed
 * asynchronously a moment ago may not be yet, and is read by the next run. (The insert
 * position would include it, but WAL past the last flush can stay unflushed on an idle
 * server for minutes, and the run would wait for it.)
 */
export async function currentWalLsn(database: PostgresDatabase): Promise<Lsn> {
  try {
    return parseLsn(String((await database.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn()::text AS lsn")).rows[0]?.lsn));
  } catch (error) {
    throw postgresFailure(error, "postgres cdc source: reading the current WAL position");
  }
}

export async function readSlotLag(database: PostgresDatabase, name: string): Promise<SlotLag | undefined> {
  const row = (
    await database.query<{ retained: string | null; unacknowledged: string | null; wal_status: string | null }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::text AS retained,
              pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS unacknowledged,
              to_jsonb(s)->>'wal_status' AS wal_status
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
      [name],
    )
  ).rows[0];
  if (row === undefined) return undefined;
  return { retainedBytes: Number(row.retained ?? 0), unacknowledgedBytes: Number(row.unacknowledged ?? 0), walStatus: row.wal_status ?? undefined };
}
