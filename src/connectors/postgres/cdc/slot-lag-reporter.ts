import type { Logger } from "pino";
import type { PostgresDatabase } from "../database.js";
import { readSlotLag } from "./replication-slot.js";

const REPORT_EVERY_MS = 60_000;

/**
 * Logs, once at start and then every minute, how much WAL the slot makes the server keep:
 * a slot whose consumer stops retains WAL until the disk fills (or until
 * max_slot_wal_keep_size invalidates it).
 */
export class SlotLagReporter {
  readonly #database: PostgresDatabase;
  readonly #slot: string;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(database: PostgresDatabase, slot: string, logger: Logger) {
    this.#database = database;
    this.#slot = slot;
    this.#logger = logger;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.#report();
    this.#timer = setInterval(() => void this.#report(), REPORT_EVERY_MS);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #report(): Promise<void> {
    try {
      const lag = await readSlotLag(this.#database, this.#slot);
      if (lag === undefined || this.#stopped) return;
      const fields = { slot: this.#slot, retained_bytes: lag.retainedBytes, unacknowledged_bytes: lag.unacknowledgedBytes, wal_status: lag.walStatus };
      if (lag.walStatus === "unreserved") this.#logger.warn(fields, "postgres cdc: the slot retains more WAL than max_wal_size allows and will be invalidated soon unless the integration catches up");
      else this.#logger.info(fields, "postgres cdc: replication slot lag");
    } catch (error) {
      this.#logger.debug({ err: error, slot: this.#slot }, "postgres cdc: reading the slot lag failed");
    }
  }
}
