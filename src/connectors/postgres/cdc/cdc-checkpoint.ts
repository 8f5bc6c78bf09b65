import type { Logger } from "pino";
import { formatLsn, isLsnText, parseLsn } from "./lsn.js";
import type { Lsn } from "./lsn.js";

/**
 * The stored position of a CDC source: the end LSN of the last transaction whose changes
 * were all written (or dead-lettered), with the slot and database it belongs to.
 */
export interface CdcCheckpoint {
  lsn: string;
  slot: string;
  database: string;
}

export interface CdcPosition {
  lsn: Lsn;
  slot: string;
  database: string;
}

export function toCheckpoint(position: CdcPosition): CdcCheckpoint {
  return { lsn: formatLsn(position.lsn), slot: position.slot, database: position.database };
}

/** The stored checkpoint, or undefined when there is none; another source's checkpoint is ignored with a warning. */
export function readCheckpoint(stored: unknown, logger: Logger): CdcPosition | undefined {
  if (stored === undefined || stored === null) return undefined;
  const { lsn, slot, database } = stored as Partial<CdcCheckpoint>;
  if (isLsnText(lsn) && typeof slot === "string" && typeof database === "string") return { lsn: parseLsn(lsn), slot, database };
  logger.warn({ checkpoint: stored }, "postgres cdc source: the checkpoint is not a cdc position (was this integration another mode before?); ignoring it");
  return undefined;
}
