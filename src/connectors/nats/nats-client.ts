import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { HealthResult } from "../../core/health.js";
import { durationMs } from "../shared/config-fields.js";
import { connectionOptions } from "./connection-options.js";
import { natsError } from "./nats-errors.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./schema.js";
import type { NatsConnectionConfig } from "./schema.js";
import { declareStreams } from "./stream-declarations.js";

type DisconnectListener = (server: string) => void;

/**
 * One NATS connection with its JetStream clients. The client reconnects by itself for as
 * long as it takes; sources listen for disconnections (they end their run with a transient
 * error) and the declared streams are declared again after each reconnection (a server
 * restarted with memory storage lost them).
 */
export class NatsClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly requestTimeoutMs: number;
  readonly #config: NatsConnectionConfig;
  readonly #logger: Logger;
  readonly #disconnectListeners = new Set<DisconnectListener>();
  #connected = true;
  #server: string;
  #closing = false;
  #redeclared: Promise<void> = Promise.resolve();

  private constructor(nc: NatsConnection, jsm: JetStreamManager, config: NatsConnectionConfig, logger: Logger) {
    this.nc = nc;
    this.jsm = jsm;
    this.requestTimeoutMs = durationMs(config.request_timeout, DEFAULT_REQUEST_TIMEOUT_MS);
    this.js = jetstream(nc, { timeout: this.requestTimeoutMs });
    this.#config = config;
    this.#logger = logger;
    this.#server = nc.getServer();
    void this.#watchStatus();
  }

  static async connect(config: NatsConnectionConfig, connectionName: string, logger: Logger): Promise<NatsClient> {
    let nc: NatsConnection;
    try {
      nc = await connect(connectionOptions(config, connectionName));
    } catch (error) {
      throw natsError(error, `connecting to NATS (${connectionName})`);
    }
    try {
      const timeout = durationMs(config.request_timeout, DEFAULT_REQUEST_TIMEOUT_MS);
      const jsm = await jetstreamManager(nc, { timeout, checkAPI: false });
      const client = new NatsClient(nc, jsm, config, logger);
      await client.declareStreams();
      return client;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw natsError(error, `connecting to NATS (${connectionName})`);
    }
  }

  get connected(): boolean {
    return this.#connected && !this.nc.isClosed();
  }

  async declareStreams(): Promise<void> {
    const streams = this.#config.streams ?? [];
    if (streams.length === 0) return;
    const outcomes = await declareStreams(this.jsm, streams);
    for (const [name, outcome] of outcomes) if (outcome !== "unchanged") this.#logger.info({ stream: name }, `JetStream stream ${name} ${outcome}`);
  }

  /** Resolves once the declarations after the last reconnection are done (failed ones are logged), so a source does not look for a stream being declared again. */
  redeclared(): Promise<void> {
    return this.#redeclared;
  }

  /** Calls `listener` when the connection drops; returns the function that removes it. */
  onDisconnect(listener: DisconnectListener): () => void {
    this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  async health(signal: AbortSignal): Promise<HealthResult> {
    if (this.nc.isClosed()) return { status: "unhealthy", latencyMs: 0, detail: "connection closed" };
    if (!this.#connected) return { status: "unhealthy", latencyMs: 0, detail: `disconnected from ${this.#server}, reconnecting` };
    const started = performance.now();
    try {
      const rtt = await withinTime(this.nc.rtt(), this.requestTimeoutMs, signal);
      const info = this.nc.info;
      const version = info?.version === undefined ? "" : ` (nats-server ${info.version})`;
      if (info?.jetstream !== true) return { status: "degraded", latencyMs: rtt, detail: `connected to ${this.nc.getServer()}${version}, but JetStream is not enabled on it` };
      return { status: "healthy", latencyMs: rtt, detail: `connected to ${this.nc.getServer()}${version}, JetStream enabled, round trip ${rtt}ms` };
    } catch (error) {
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: `no answer to a ping: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#disconnectListeners.clear();
    if (this.nc.isClosed()) return;
    // Draining flushes what is buffered (acks, naks); it would wait for a reconnection that may never come.
    if (this.#connected) {
      const drained = await withinTime(this.nc.drain(), this.requestTimeoutMs).then(
        () => true,
        () => false,
      );
      if (drained) return;
    }
    await this.nc.close().catch(() => undefined);
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        if (this.#closing) continue;
        this.#logger.warn({ server: status.server }, `lost the connection to NATS at ${status.server}; reconnecting`);
        for (const listener of [...this.#disconnectListeners]) listener(status.server);
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#server = status.server;
        this.#logger.info({ server: status.server }, `reconnected to NATS at ${status.server}`);
        this.#redeclared = this.declareStreams().catch((error: unknown) => {
          this.#logger.error({ err: error }, `declaring streams after reconnecting failed: ${(error as Error).message}`);
        });
      } else if (status.type === "close") {
        this.#connected = false;
      }
    }
  }
}

/** `promise`, or a rejection once `timeoutMs` passes or `signal` aborts; leaves no timer or listener behind. */
function withinTime<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(new Error("cancelled"));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
