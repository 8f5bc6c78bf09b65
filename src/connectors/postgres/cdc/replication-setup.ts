import type { Logger } from "pino";
import type { PostgresDatabase } from "../database.js";
import type { CdcPlan } from "./cdc-plan.js";
import { readCheckpoint } from "./cdc-checkpoint.js";
import type { Lsn } from "./lsn.js";
import { formatLsn } from "./lsn.js";
import { ensurePublication } from "./publication.js";
import { createSlot, currentDatabase, readSlot } from "./replication-slot.js";
import { decideStart } from "./slot-position.js";
import { checkTableIdentity } from "./table-identity.js";
import { checkWalLevel } from "./wal-level.js";

export interface ReplicationStart {
  /** Streaming starts here: the checkpoint, or the slot's position when there is none. */
  from: Lsn;
  /** current_database(), stored with every checkpoint. */
  database: string;
}

/**
 * Everything a CDC source checks and creates before it streams: wal_level, the table and
 * its replica identity, the publication, and the slot, whose position must agree with the
 * checkpoint (see decideStart).
 */
export async function prepareReplication(database: PostgresDatabase, plan: CdcPlan, integration: string, stored: unknown, logger: Logger): Promise<ReplicationStart> {
  await checkWalLevel(database);
  await checkTableIdentity(database, plan);
  await ensurePublication(database, plan, logger);
  const checkpoint = readCheckpoint(stored, logger);
  const name = await currentDatabase(database);
  const slot = await readSlot(database, plan.slot);
  const decision = decideStart({ integration, slotName: plan.slot, currentDatabase: name, slot, checkpoint });
  if (decision.action === "resume") {
    if (slot?.confirmedFlush !== undefined && slot.confirmedFlush < decision.from) {
      logger.info(
        { slot: plan.slot, slot_lsn: formatLsn(slot.confirmedFlush), checkpoint_lsn: formatLsn(decision.from) },
        "postgres cdc: the slot is behind the checkpoint (the last acknowledgement did not reach the server); changes up to the checkpoint are skipped",
      );
    }
    return { from: decision.from, database: name };
  }
  const created = await createSlot(database, plan.slot);
  logger.info({ slot: plan.slot, lsn: created.confirmedFlush === undefined ? undefined : formatLsn(created.confirmedFlush) }, "postgres cdc: created replication slot; changes from now on are streamed");
  return { from: created.confirmedFlush ?? 0n, database: name };
}
