import type { Logger } from "pino";
import type { Connection } from "../connectors/types.js";
import { findConnector } from "../connectors/registry.js";
import { configError } from "../core/errors.js";
import type { JunctionConfig } from "../config/model.js";
import type { StateStore } from "../state/types.js";

/** Opens named connections on first use and closes them all on shutdown. */
export class ConnectionPool {
  readonly #open = new Map<string, Promise<Connection>>();

  constructor(
    private readonly config: JunctionConfig,
    private readonly state: StateStore,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    /** Connections the runtime provides itself (webhook endpoints), by name; undefined for the configured ones. */
    private readonly provided: (name: string) => Connection | undefined = () => undefined,
  ) {}

  get(name: string): Promise<Connection> {
    let connection = this.#open.get(name);
    if (!connection) {
      connection = this.#connect(name);
      this.#open.set(name, connection);
      connection.catch(() => this.#open.delete(name));
    }
    return connection;
  }

  async #connect(name: string): Promise<Connection> {
    const provided = this.provided(name);
    if (provided !== undefined) return provided;
    const definition = this.config.connections[name];
    if (!definition) throw configError(`connection "${name}" is not defined under connections:`);
    const spec = findConnector(definition.type);
    if (!spec) throw configError(`connection "${name}" has unknown type "${definition.type}"`);
    return spec.connect(definition.options as never, {
      name,
      logger: this.logger.child({ connection: name }),
      state: this.state,
      baseDir: this.config.baseDir,
      signal: this.signal,
      ...(definition.resilience ? { resilience: definition.resilience } : {}),
    });
  }

  async closeAll(): Promise<void> {
    const pending = [...this.#open.values()];
    this.#open.clear();
    await Promise.allSettled(
      pending.map(async (connection) => {
        try {
          await (await connection).close();
        } catch (error) {
          this.logger.warn({ err: error }, "closing a connection failed");
        }
      }),
    );
  }
}
