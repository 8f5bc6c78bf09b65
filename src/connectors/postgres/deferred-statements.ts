import type { PoolClient } from "pg";

/**
 * Statements that return nothing and take no parameters (BEGIN, SAVEPOINT, RELEASE …),
 * held back to leave with the next query as one simple-protocol Query of several
 * statements: one round trip instead of one each. On a loaded machine every round trip
 * is a wake-up of the server and of this process, and a batch of a few hundred rows made
 * five of them. The server runs a Query's statements in order and stops at the first
 * error, which the caller then sees exactly as if it had sent them one by one.
 *
 * Only parameterless text can be joined: before a query with parameters, `flush`.
 */
export class DeferredStatements {
  #pending = "";

  add(sql: string): void {
    this.#pending = this.#pending === "" ? sql : `${this.#pending}; ${sql}`;
  }

  /** `sql` with the pending statements in front; they count as sent from here on. */
  lead(sql: string): string {
    const text = this.#pending === "" ? sql : `${this.#pending}; ${sql}`;
    this.#pending = "";
    return text;
  }

  /** Sends what is pending, if anything. */
  async flush(client: PoolClient): Promise<void> {
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    await client.query(text);
  }
}
