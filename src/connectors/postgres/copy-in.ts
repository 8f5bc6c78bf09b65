import type { Connection, PoolClient, Submittable } from "pg";

/** CopyDone: 'c' and the length of the message (4, itself). */
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/**
 * `COPY … FROM STDIN` whose data is all in memory, sent in one go: the Query, every
 * CopyData message and CopyDone leave in one corked write, without waiting for the
 * server's CopyInResponse first. One round trip and one system call per COPY instead of
 * pg-copy-streams' round trip for the statement, a write for each chunk's header and one
 * for its data, and one for CopyDone; on a batch of a few hundred rows those waits and
 * wake-ups cost more than the data.
 *
 * The protocol allows it: when the COPY fails before reading its data (a missing table),
 * the server ignores CopyData and CopyDone messages outside COPY mode; when a row fails,
 * it reports the error and ignores the rest the same way. Either way the error arrives
 * before ReadyForQuery, which the client waits for before sending anything else.
 */
class PipelinedCopyIn implements Submittable {
  readonly #text: string;
  readonly #messages: readonly Buffer[];
  readonly #done: { resolve: (rows: number) => void; reject: (error: unknown) => void };
  readonly #endsAfter: number | undefined;
  /** COPY and INSERT statements of the Query completed so far. */
  #written = 0;
  #rows = 0;
  #failed = false;

  constructor(text: string, messages: readonly Buffer[], done: { resolve: (rows: number) => void; reject: (error: unknown) => void }, endsAfter: number | undefined) {
    this.#text = text;
    this.#messages = messages;
    this.#done = done;
    this.#endsAfter = endsAfter;
  }

  submit(connection: Connection): void {
    const stream = connection.stream;
    stream.cork();
    connection.query(this.#text);
    for (const message of this.#messages) stream.write(message);
    stream.write(COPY_DONE);
    stream.uncork();
  }

  /** node-postgres replaces this when query_timeout is set; calling it clears that timer. */
  callback(): void {}

  handleCopyInResponse(): void {
    // The data is already on its way.
  }

  handleCommandComplete(message: { text?: string }): void {
    const tag = message.text ?? "";
    const match = /^COPY (\d+)/.exec(tag);
    if (match) this.#rows = Number(match[1]);
    if (match || tag.startsWith("INSERT ")) this.#written++;
  }

  handleReadyForQuery(): void {
    this.callback();
    if (!this.#failed) this.#done.resolve(this.#rows);
  }

  handleError(error: unknown): void {
    this.callback();
    this.#failed = true;
    if (this.#endsAfter !== undefined && this.#written >= this.#endsAfter && typeof error === "object" && error !== null) endedTransactions.add(error);
    this.#done.reject(error);
  }

  // COPY FROM produces no rows; node-postgres may still route these to the active query.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/** Errors raised by the statements that end a transaction (see `endsAfter`), after the rows were in. */
const endedTransactions = new WeakSet<object>();

/**
 * Whether `error` came from the statements that end the transaction (RELEASE, COMMIT)
 * of a copyIn whose rows were all written: the transaction is over, there is no savepoint
 * to roll back to, and the error belongs to the whole write, as a failed COMMIT would.
 */
export function failedAtTransactionEnd(error: unknown): boolean {
  return typeof error === "object" && error !== null && endedTransactions.has(error);
}

/**
 * Runs `COPY … FROM STDIN` (`text`) with `messages`, complete CopyData messages (see
 * copyDataMessages); resolves with the rows copied. `text` may hold several statements:
 * when `endsAfter` is set, the statements after the `endsAfter`-th COPY or INSERT end the
 * transaction, and an error from them is marked (failedAtTransactionEnd).
 */
export function copyIn(client: PoolClient, text: string, messages: readonly Buffer[], endsAfter?: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.query(new PipelinedCopyIn(text, messages, { resolve, reject }, endsAfter));
  });
}
