import type { ClientConfig } from "pg";
import { LogicalReplicationService } from "pg-logical-replication";
import type { Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import { abortError } from "../../../core/abort.js";
import { transientError } from "../../../core/errors.js";
import { formatLsn, parseLsn } from "./lsn.js";
import type { Lsn } from "./lsn.js";
import { TextPgoutputPlugin } from "./text-pgoutput-plugin.js";

export interface ReplicationStreamOptions {
  clientConfig: ClientConfig;
  slot: string;
  publication: string;
  /** Where streaming starts; also the first position confirmed to the server. */
  from: Lsn;
  heartbeatMs: number;
  logger: Logger;
  /** Every decoded message, in order; the stream stays paused until the promise settles (backpressure). */
  onMessage(message: Pgoutput.Message): Promise<void>;
  /** A server keepalive's WAL position, delivered after every message received before it. */
  onKeepalive(lsn: Lsn): void;
  /** The connection broke or the server ended replication. */
  onFailure(error: unknown): void;
}

interface PendingKeepalive {
  lsn: Lsn;
  /** Messages decoded before the keepalive arrived. */
  after: number;
}

const CLOSE_WAIT_MS = 5_000;

/**
 * One logical replication connection (START_REPLICATION … pgoutput) through
 * pg-logical-replication, with flow control on and automatic acknowledgement off: the
 * server hears a flush position only through `confirm`, which the source calls once the
 * target committed everything up to it. Status updates carrying that position go out
 * every `heartbeatMs` and whenever a keepalive asks for a reply.
 */
export class ReplicationStream {
  readonly #service: LogicalReplicationService;
  readonly #plugin: TextPgoutputPlugin;
  readonly #options: ReplicationStreamOptions;
  readonly #pending: PendingKeepalive[] = [];
  #confirmed: Lsn;
  #handled = 0;
  #closing = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #replication: Promise<unknown> | undefined;

  private constructor(options: ReplicationStreamOptions) {
    this.#options = options;
    this.#confirmed = options.from;
    // The library adds its own +1 to every acknowledged LSN (see #sendStatus); its timer would confirm what was only received.
    this.#service = new LogicalReplicationService(options.clientConfig, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
    this.#plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] });
  }

  /** Connects and starts streaming; resolves once the server streams, rejects when it refuses (slot in use, missing…). */
  static async open(options: ReplicationStreamOptions, signal: AbortSignal): Promise<ReplicationStream> {
    const stream = new ReplicationStream(options);
    try {
      await stream.#start(signal);
    } catch (error) {
      await stream.close();
      throw error;
    }
    return stream;
  }

  /** The last position confirmed to the server. */
  get confirmed(): Lsn {
    return this.#confirmed;
  }

  /** Tells the server that everything up to `lsn` is durably processed: the slot may release that WAL. */
  confirm(lsn: Lsn): void {
    if (lsn <= this.#confirmed) return;
    this.#confirmed = lsn;
    this.#sendStatus(false);
  }

  /** Asks the server for a keepalive, which reports how far it has sent. */
  requestKeepalive(): void {
    this.#sendStatus(true);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    try {
      await Promise.race([this.#service.destroy().then(() => this.#replication?.catch(() => undefined)), bounded]);
    } catch (error) {
      this.#options.logger.warn({ err: error }, "postgres cdc: closing the replication connection failed");
    } finally {
      clearTimeout(timer);
    }
  }

  async #start(signal: AbortSignal): Promise<void> {
    const { slot, from } = this.#options;
    let failStart: (error: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      failStart = reject;
    });
    failed.catch(() => undefined);
    let started = false;
    const onFailure = (error: unknown): void => {
      if (this.#closing) return;
      if (started) this.#options.onFailure(error);
      else failStart(error);
    };
    this.#service.on("error", onFailure);
    this.#service.on("data", (_lsn: string, message: Pgoutput.Message) => this.#onData(message));
    this.#service.on("heartbeat", (lsn: string, _timestamp: number, shouldRespond: boolean) => this.#onKeepalive(lsn, shouldRespond));
    const running = new Promise<void>((resolve) => this.#service.once("start", () => resolve()));
    this.#replication = this.#service.subscribe(this.#plugin, slot, formatLsn(from));
    this.#replication.then(
      () => onFailure(transientError(`postgres cdc: the server ended replication on slot ${slot}; it will be resumed from the checkpoint`, { code: "postgres.unavailable" })),
      onFailure,
    );
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([running, failed, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
    started = true;
    this.#sendStatus(false);
    // Asking for a reply makes an idle server report how far it has read, so the slot can advance past WAL of other tables.
    this.#heartbeat = setInterval(() => this.#sendStatus(true), this.#options.heartbeatMs);
  }

  async #onData(message: Pgoutput.Message): Promise<void> {
    try {
      await this.#options.onMessage(message);
    } catch (error) {
      this.#options.onFailure(error);
    }
    this.#handled += 1;
    this.#releaseKeepalives();
  }

  #onKeepalive(lsnText: string, shouldRespond: boolean): void {
    if (shouldRespond) this.#sendStatus(false);
    // With flow control, messages decoded before this keepalive may still wait in the library's queue.
    this.#pending.push({ lsn: parseLsn(lsnText), after: this.#plugin.decoded });
    this.#releaseKeepalives();
  }

  #releaseKeepalives(): void {
    while (this.#pending.length > 0 && (this.#pending[0] as PendingKeepalive).after <= this.#handled) {
      this.#options.onKeepalive((this.#pending.shift() as PendingKeepalive).lsn);
    }
  }

  /**
   * A standby status update with write = flush = apply = the confirmed position. The
   * library sends the LSN it is given plus one; the server would then skip a transaction
   * whose commit record starts exactly at the confirmed position, so it is given one less.
   */
  #sendStatus(requestReply: boolean): void {
    if (this.#closing || this.#confirmed === 0n) return;
    this.#service.acknowledge(formatLsn(this.#confirmed - 1n), requestReply).catch((error: unknown) => {
      this.#options.logger.debug({ err: error }, "postgres cdc: sending a status update failed");
    });
  }
}
