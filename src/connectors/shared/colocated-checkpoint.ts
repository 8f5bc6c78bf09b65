import type { SharedDatabaseCheckpoints, SqlStatement } from "../../state/types.js";
import type { WriteOptions } from "../types.js";

/**
 * Decides whether a SQL target shares its database with the state store, and then hands
 * it the checkpoint upsert to run inside its write transaction: rows and position commit
 * together, so a crash between the two cannot make the next run redo the batch.
 */
export class ColocatedCheckpoint {
  readonly #shared: SharedDatabaseCheckpoints | undefined;
  readonly #ownIdentity: () => Promise<string | undefined>;
  #colocated: Promise<boolean> | undefined;

  /** @param ownIdentity the target database's identity, in the form of SharedDatabaseCheckpoints.databaseIdentity */
  constructor(shared: SharedDatabaseCheckpoints | undefined, ownIdentity: () => Promise<string | undefined>) {
    this.#shared = shared;
    this.#ownIdentity = ownIdentity;
  }

  /** true when target and state store are the same database; asked once, never throws. */
  colocated(): Promise<boolean> {
    this.#colocated ??= this.#compare();
    return this.#colocated;
  }

  /**
   * The statement to run before COMMIT, when a checkpoint is offered, the databases are the
   * same and no message of the write failed (a failed message is retried or dead-lettered
   * later, so the position must not pass it yet).
   */
  async statement(options: WriteOptions | undefined, failures: number): Promise<SqlStatement | undefined> {
    if (options?.checkpoint === undefined || failures > 0) return undefined;
    if (!(await this.colocated())) return undefined;
    return this.statementNow(options);
  }

  /** The same for a synchronous driver, whose caller already awaited `colocated()` and found it true. */
  statementNow(options: WriteOptions | undefined): SqlStatement | undefined {
    const checkpoint = options?.checkpoint;
    if (checkpoint === undefined || this.#shared === undefined) return undefined;
    return this.#shared.checkpointStatement(checkpoint.scope, checkpoint.value);
  }

  async #compare(): Promise<boolean> {
    if (this.#shared === undefined) return false;
    try {
      const [state, own] = await Promise.all([this.#shared.databaseIdentity(), this.#ownIdentity()]);
      return state !== undefined && state === own;
    } catch {
      return false;
    }
  }
}
