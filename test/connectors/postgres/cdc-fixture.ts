// PostgreSQL for CDC tests: logical replication needs wal_level = logical. The shared test
// server has it in CI (.ci/run sets it); elsewhere a private cluster is started with it, so
// the shared server is never restarted. Each test file gets its own schema, and every slot
// and publication a test names is dropped at the end (a forgotten slot retains WAL forever).
import pg from "pg";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import type { PostgresConnectionConfig, PostgresSinkOptions, PostgresSourceOptions } from "../../../src/connectors/postgres/schema.js";
import type { Connection, Source, SourceContext } from "../../../src/connectors/types.js";
import { privatePostgresSkipReason, startPrivatePostgres } from "../../support/private-postgres.js";
import type { PrivatePostgres } from "../../support/private-postgres.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { runtimeContext, sourceContext } from "../connector-context.js";

export type PostgresConnection = Connection<PostgresSourceOptions, PostgresSinkOptions>;

async function sharedServerIsLogical(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  try {
    return (await client.query<{ wal_level: string }>("SHOW wal_level")).rows[0]?.wal_level === "logical";
  } finally {
    await client.end();
  }
}

let useShared: boolean | undefined;

/** For `describe(…, { skip: await cdcSkipReason() })`: false when a logical-replication server is available. */
export async function cdcSkipReason(): Promise<string | false> {
  if ((await serviceSkipReason("postgres")) === false && (await sharedServerIsLogical())) {
    useShared = true;
    return false;
  }
  useShared = false;
  const reason = privatePostgresSkipReason();
  return reason === false ? false : `the shared PostgreSQL does not run with wal_level = logical, and ${reason}`;
}

export interface LogicalServer {
  url: string;
  stop(): Promise<void>;
}

/** The shared server when it has wal_level = logical, else a private cluster switched to it. */
export async function logicalServer(options: { privateAlways?: boolean; databases?: string[] } = {}): Promise<LogicalServer & { private?: PrivatePostgres }> {
  if (!options.privateAlways && (useShared ?? (await sharedServerIsLogical()))) return { url: postgresTestUrl(), stop: async () => undefined };
  const server = await startPrivatePostgres({ databases: options.databases ?? ["junction"] });
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query("ALTER SYSTEM SET wal_level = logical");
    await client.end();
    await server.restart();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return { url: server.url, stop: () => server.destroy(), private: server };
}

export interface SlotRow {
  confirmed_flush_lsn: string | null;
  active: boolean;
  wal_status: string | null;
}

export class CdcFixture {
  readonly schema: string;
  /** Unique per file: the application_name of this fixture's connections, to find them in pg_stat_activity. */
  readonly applicationName: string;
  readonly #label: string;
  readonly #privateCluster: boolean;
  readonly #connections: PostgresConnection[] = [];
  readonly #slots = new Set<string>();
  readonly #publications = new Set<string>();
  #server: LogicalServer | undefined;
  #admin: pg.Client | undefined;
  #names = 0;

  /** privateCluster: always a private cluster, for tests that change server settings. */
  constructor(label: string, options: { privateCluster?: boolean } = {}) {
    this.#label = label;
    this.#privateCluster = options.privateCluster ?? false;
    const suffix = `${process.pid}_${Date.now().toString(36)}`;
    this.schema = `junction_test_${label}_${suffix}`;
    this.applicationName = `junction_${label}_${suffix}`;
  }

  get url(): string {
    return (this.#server as LogicalServer).url;
  }

  get admin(): pg.Client {
    return this.#admin as pg.Client;
  }

  async setUp(): Promise<void> {
    this.#server = await logicalServer({ privateAlways: this.#privateCluster });
    // A plain client, not a pool: a pool's idle timers would blur the leak checks. Commits are
    // flushed at once even on a private cluster (synchronous_commit = off), so WAL positions read after them are final.
    this.#admin = new pg.Client({ connectionString: this.url, options: `-c search_path=${this.schema} -c TimeZone=UTC -c synchronous_commit=on` });
    await this.#admin.connect();
    await this.#admin.query(`CREATE SCHEMA "${this.schema}"`);
  }

  /** Drops everything the tests made, each step on its own: one failure must not leave a slot behind. */
  async tearDown(): Promise<void> {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    for (const connection of this.#connections.splice(0)) await attempt(() => connection.close());
    const admin = this.#admin;
    if (admin !== undefined) {
      for (const slot of this.#slots) await attempt(() => this.dropSlot(slot));
      for (const publication of this.#publications) await attempt(() => admin.query(`DROP PUBLICATION IF EXISTS "${publication}"`));
      await attempt(() => admin.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`));
      await attempt(() => admin.end());
    }
    await attempt(async () => this.#server?.stop());
    if (failures.length > 0) throw failures[0];
  }

  /** A fresh slot and publication name, dropped at tear-down. */
  names(): { slot: string; publication: string } {
    const name = `cdc_${this.#label}_${process.pid}_${++this.#names}_${Date.now().toString(36)}`.toLowerCase();
    this.#slots.add(name);
    this.#publications.add(name);
    return { slot: name, publication: name };
  }

  async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.admin.query<R>(text, values)).rows;
  }

  async connect(extra: Partial<PostgresConnectionConfig> = {}): Promise<PostgresConnection> {
    const connection = await postgresConnector.connect(
      { url: this.url, schema: this.schema, application_name: this.applicationName, pool_size: 2, ...extra },
      runtimeContext(process.cwd()),
    );
    this.#connections.push(connection);
    return connection;
  }

  /** Closes a connection before tear-down (it is not closed twice). */
  async release(connection: PostgresConnection): Promise<void> {
    const at = this.#connections.indexOf(connection);
    if (at !== -1) this.#connections.splice(at, 1);
    await connection.close();
  }

  source(connection: PostgresConnection, options: PostgresSourceOptions, ctx: SourceContext = sourceContext()): Source {
    return (connection.source as NonNullable<PostgresConnection["source"]>)(options, ctx);
  }

  async slot(name: string): Promise<SlotRow | undefined> {
    return (await this.sql<SlotRow>("SELECT confirmed_flush_lsn::text, active, wal_status FROM pg_replication_slots WHERE slot_name = $1", [name]))[0];
  }

  /** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs` with `what`. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Drops a slot once no connection holds it any more. */
  async dropSlot(name: string): Promise<void> {
    await this.waitFor(`slot ${name} to be released`, async () => ((await this.slot(name))?.active === true ? undefined : true));
    await this.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [name]);
  }
}
