import { abortable } from "../../core/abort.js";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HealthResult } from "../types.js";
import { errorMessage } from "../../core/errors.js";
import { DEFAULT_REDIS_URL } from "./schema.js";
import type { RedisConnectionConfig } from "./schema.js";

const QUIT_GRACE_MS = 1000;

/**
 * The Redis server of one `connections.<name>` block: one shared client for ordinary
 * commands (acks, adds, claims), and dedicated clients for what holds a connection —
 * blocking reads and subscriptions — so they never queue the others behind them.
 * Every client retries a command over at most two reconnects, so a server that stays
 * down surfaces as a transient error and the engine restarts the run with backoff.
 */
export class RedisServer {
  readonly name: string;
  readonly keyPrefix: string;
  readonly commands: Redis;
  readonly #url: string;
  readonly #logger: Logger;
  readonly #clients = new Set<Redis>();

  constructor(name: string, config: RedisConnectionConfig, logger: Logger) {
    this.name = name;
    this.keyPrefix = config.key_prefix ?? "";
    this.#url = config.url ?? DEFAULT_REDIS_URL;
    this.#logger = logger;
    this.commands = this.dedicated("commands");
  }

  /** The full key of a stream, channel or pattern named in config. */
  key(name: string): string {
    return `${this.keyPrefix}${name}`;
  }

  /** A client of its own; `release` it when done. */
  dedicated(purpose: string): Redis {
    const client = new Redis(this.#url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectionName: `junction:${this.name}:${purpose}`.replace(/[^A-Za-z0-9_.:-]/g, "_"),
    });
    let reported = false;
    client.on("error", (error: Error) => {
      // ioredis reports every failed reconnect; one warning per outage is enough.
      if (reported) return;
      reported = true;
      this.#logger.warn({ connection: this.name, purpose, error: errorMessage(error) }, `redis connection lost or refused (${purpose}): ${errorMessage(error)}; reconnecting`);
    });
    client.on("ready", () => {
      if (reported) this.#logger.info({ connection: this.name, purpose }, `redis connection (${purpose}) is back`);
      reported = false;
    });
    this.#clients.add(client);
    return client;
  }

  /** Closes a dedicated client; a command it is blocked in fails with "Connection is closed". */
  release(client: Redis): void {
    this.#clients.delete(client);
    client.disconnect();
  }

  async health(signal: AbortSignal): Promise<HealthResult> {
    const started = performance.now();
    try {
      await abortable(this.commands.ping(), signal);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      return { status: "healthy", latencyMs, detail: `PING answered in ${latencyMs}ms` };
    } catch (error) {
      return { status: "unhealthy", latencyMs: Math.round(performance.now() - started), detail: `PING failed: ${errorMessage(error)}` };
    }
  }

  async close(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(clients.map((client) => quit(client)));
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === "ready") {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_GRACE_MS)));
    await Promise.race([client.quit().then(() => undefined, () => undefined), grace]);
    clearTimeout(timer);
  }
  client.disconnect();
}

