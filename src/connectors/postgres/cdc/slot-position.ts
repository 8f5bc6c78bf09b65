import { configError } from "../../../core/errors.js";
import type { CdcPosition } from "./cdc-checkpoint.js";
import { formatLsn } from "./lsn.js";
import type { Lsn } from "./lsn.js";
import type { SlotState } from "./replication-slot.js";

export interface StartDecisionInput {
  integration: string;
  slotName: string;
  currentDatabase: string;
  slot: SlotState | undefined;
  checkpoint: CdcPosition | undefined;
}

export type StartDecision = { action: "create" } | { action: "resume"; from: Lsn };

/** What to do once changes were lost: copy the table again, then forget the saved position. */
const resync = (integration: string): string =>
  `resync the target (e.g. one full_refresh run of the table), then run \`junction checkpoints reset ${integration} --yes\` so the source starts from the slot's position`;

/**
 * Where streaming starts, or why it must not: a slot that lost changes (dropped, invalidated,
 * consumed by someone else) fails loudly instead of silently skipping them. A slot behind
 * the checkpoint is normal after a crash: streaming starts at the checkpoint and the
 * changes at or before it are skipped.
 */
export function decideStart(input: StartDecisionInput): StartDecision {
  const { slot, checkpoint, slotName } = input;
  const context = { slot: slotName, integration: input.integration };
  if (checkpoint !== undefined && checkpoint.slot !== slotName) {
    throw configError(
      `postgres cdc source: the checkpoint of integration ${input.integration} belongs to replication slot ${checkpoint.slot}, but slot is now ${slotName}; set slot back to ${checkpoint.slot}, or ${resync(input.integration)}`,
      { code: "config.postgres_slot", context },
    );
  }
  if (checkpoint !== undefined && checkpoint.database !== input.currentDatabase) {
    throw configError(
      `postgres cdc source: the checkpoint of integration ${input.integration} was made on database ${checkpoint.database}, but the connection now reaches ${input.currentDatabase}; point the connection back, or ${resync(input.integration)}`,
      { code: "config.postgres_slot", context },
    );
  }
  if (slot === undefined) {
    if (checkpoint === undefined) return { action: "create" };
    throw configError(
      `postgres cdc source: replication slot ${slotName} does not exist, but integration ${input.integration} has a checkpoint at LSN ${formatLsn(checkpoint.lsn)}: ` +
        `the slot was dropped (or this is a new database), so the changes made since are lost to this integration. To start over, ${resync(input.integration)}; a new slot is then created`,
      { code: "config.postgres_slot_missing", context },
    );
  }
  if (slot.slotType !== "logical" || slot.plugin !== "pgoutput") {
    throw configError(
      `postgres cdc source: replication slot ${slotName} exists but is a ${slot.slotType} slot${slot.plugin ? ` of plugin ${slot.plugin}` : ""}, not a pgoutput logical slot; set slot to another name`,
      { code: "config.postgres_slot", context },
    );
  }
  if (slot.database !== input.currentDatabase) {
    throw configError(`postgres cdc source: replication slot ${slotName} belongs to database ${slot.database ?? "?"}, not ${input.currentDatabase}; set slot to another name`, {
      code: "config.postgres_slot",
      context,
    });
  }
  if (slot.invalidated) {
    throw configError(
      `postgres cdc source: replication slot ${slotName} was invalidated by the server (wal_status ${slot.walStatus ?? "?"}: the WAL it needed was removed, see max_slot_wal_keep_size), so changes are lost. ` +
        `Drop it with SELECT pg_drop_replication_slot('${slotName}'), then ${resync(input.integration)}`,
      { code: "config.postgres_slot_invalidated", context },
    );
  }
  const confirmed = slot.confirmedFlush ?? 0n;
  if (checkpoint === undefined) return { action: "resume", from: confirmed };
  if (confirmed > checkpoint.lsn) {
    throw configError(
      `postgres cdc source: replication slot ${slotName} has confirmed LSN ${formatLsn(confirmed)}, ahead of this integration's checkpoint ${formatLsn(checkpoint.lsn)}: ` +
        `something else consumed the slot (another tool or instance, or pg_replication_slot_advance), and the changes in between are lost to this integration. ` +
        `Make sure only this integration reads slot ${slotName}, then ${resync(input.integration)}`,
      { code: "config.postgres_slot_ahead", context },
    );
  }
  return { action: "resume", from: checkpoint.lsn };
}
