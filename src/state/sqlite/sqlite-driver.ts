import { accessSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The embedded SQLite driver used by the state store and the sqlite connector.
 *
 * Node's built-in `node:sqlite` is used where it is complete (Node >= 22.13 / 23.4, so
 * every Node >= 24), better-sqlite3 elsewhere (Node 20 and early 22). better-sqlite3 12's
 * native wrappers abort the process on Node 24 when one is destroyed after its
 * environment is gone (`Assertion failed: (env) != nullptr` in
 * RemoveEnvironmentCleanupHook, at exit or during a GC), and better-sqlite3 13, which
 * fixes that, no longer runs on Node 20. `JUNCTION_SQLITE_DRIVER=better-sqlite3|node:sqlite`
 * forces one.
 */
export type SqliteDriverName = "node:sqlite" | "better-sqlite3";

export type SqliteRow = Record<string, unknown>;

export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): SqliteRow | undefined;
  all(...params: unknown[]): SqliteRow[];
  iterate(...params: unknown[]): IterableIterator<SqliteRow>;
}

export interface SqliteConnection {
  readonly driver: SqliteDriverName;
  readonly open: boolean;
  readonly inTransaction: boolean;
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  /** Runs `PRAGMA <statement>`, e.g. pragma("journal_mode = WAL"). */
  pragma(statement: string): void;
  /** The first column of `PRAGMA <name>`, e.g. pragmaValue("journal_mode") → "wal". */
  pragmaValue(name: string): unknown;
  /** Runs `work` in a transaction (BEGIN DEFERRED or IMMEDIATE), committing on return and rolling back on throw. */
  transaction<T>(work: () => T, mode?: "deferred" | "immediate"): T;
  close(): void;
}

export interface SqliteOpenOptions {
  readonly?: boolean;
  /** Fail instead of creating the file (implied by readonly). */
  fileMustExist?: boolean;
  busyTimeoutMs?: number;
}

/** Error thrown by either driver, with better-sqlite3's code names (`SQLITE_CONSTRAINT_NOTNULL`…) on both. */
export class SqliteDriverError extends Error {
  readonly code: string;
  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause });
    this.name = "SqliteError";
    this.code = code;
  }
}

const require = createRequire(import.meta.url);

interface NodeSqliteStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): SqliteRow | undefined;
  all(...params: unknown[]): SqliteRow[];
  iterate?(...params: unknown[]): IterableIterator<SqliteRow>;
}
interface NodeSqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): NodeSqliteStatement;
  close(): void;
  readonly isOpen: boolean;
  readonly isTransaction: boolean;
}
interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean; open?: boolean }) => NodeSqliteDatabase;
  StatementSync: { prototype: { iterate?: unknown } };
}

let nodeSqlite: NodeSqliteModule | null | undefined;

function loadNodeSqlite(): NodeSqliteModule | null {
  if (nodeSqlite !== undefined) return nodeSqlite;
  try {
    const candidate = require("node:sqlite") as NodeSqliteModule;
    nodeSqlite = typeof candidate.StatementSync?.prototype.iterate === "function" && hasTransactionState(candidate) ? candidate : null;
  } catch {
    nodeSqlite = null;
  }
  return nodeSqlite;
}

function hasTransactionState(module: NodeSqliteModule): boolean {
  const probe = new module.DatabaseSync(":memory:");
  try {
    return typeof probe.isTransaction === "boolean";
  } finally {
    probe.close();
  }
}

export function sqliteDriverName(): SqliteDriverName {
  const forced = process.env.JUNCTION_SQLITE_DRIVER;
  if (forced === "better-sqlite3") return "better-sqlite3";
  if (forced === "node:sqlite") {
    if (!loadNodeSqlite()) throw new Error(`JUNCTION_SQLITE_DRIVER=node:sqlite, but this Node.js (${process.version}) has no complete node:sqlite; use Node >= 22.13`);
    return "node:sqlite";
  }
  return loadNodeSqlite() ? "node:sqlite" : "better-sqlite3";
}

export function openSqlite(file: string, options: SqliteOpenOptions = {}): SqliteConnection {
  const connection = sqliteDriverName() === "node:sqlite" ? openNodeSqlite(file, options) : openBetterSqlite(file, options);
  try {
    if (options.busyTimeoutMs !== undefined) connection.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs))}`);
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

abstract class BaseConnection implements SqliteConnection {
  abstract readonly driver: SqliteDriverName;
  abstract readonly open: boolean;
  abstract readonly inTransaction: boolean;
  abstract exec(sql: string): void;
  abstract prepare(sql: string): SqliteStatement;
  abstract close(): void;
  #savepoints = 0;
  /** BEGIN / BEGIN IMMEDIATE / COMMIT prepared once: a transaction per call is the state store's hot path. */
  readonly #control = new Map<string, SqliteStatement>();

  #runControl(sql: string): void {
    let statement = this.#control.get(sql);
    if (statement === undefined) {
      statement = this.prepare(sql);
      this.#control.set(sql, statement);
    }
    statement.run();
  }

  pragma(statement: string): void {
    this.exec(`PRAGMA ${statement}`);
  }

  pragmaValue(name: string): unknown {
    const row = this.prepare(`PRAGMA ${name}`).get();
    return row === undefined ? undefined : Object.values(row)[0];
  }

  transaction<T>(work: () => T, mode: "deferred" | "immediate" = "deferred"): T {
    if (this.inTransaction) {
      const name = `junction_sp_${++this.#savepoints}`;
      this.exec(`SAVEPOINT ${name}`);
      try {
        const result = work();
        this.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        this.exec(`ROLLBACK TO ${name}`);
        this.exec(`RELEASE ${name}`);
        throw error;
      } finally {
        this.#savepoints--;
      }
    }
    this.#runControl(mode === "immediate" ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      const result = work();
      this.#runControl("COMMIT");
      return result;
    } catch (error) {
      if (this.inTransaction) this.exec("ROLLBACK");
      throw error;
    }
  }
}

// node:sqlite ---------------------------------------------------------------------------

/** SQLite result codes by number, named as better-sqlite3 names them. */
const PRIMARY_CODES: Record<number, string> = {
  1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
};
const EXTENDED_CODES: Record<number, string> = {
  261: "SQLITE_BUSY_RECOVERY", 517: "SQLITE_BUSY_SNAPSHOT", 773: "SQLITE_BUSY_TIMEOUT", 262: "SQLITE_LOCKED_SHAREDCACHE",
  275: "SQLITE_CONSTRAINT_CHECK", 531: "SQLITE_CONSTRAINT_COMMITHOOK", 787: "SQLITE_CONSTRAINT_FOREIGNKEY", 1043: "SQLITE_CONSTRAINT_FUNCTION",
  1299: "SQLITE_CONSTRAINT_NOTNULL", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY", 1811: "SQLITE_CONSTRAINT_TRIGGER", 2067: "SQLITE_CONSTRAINT_UNIQUE",
  2323: "SQLITE_CONSTRAINT_VTAB", 2579: "SQLITE_CONSTRAINT_ROWID", 3091: "SQLITE_CONSTRAINT_DATATYPE", 264: "SQLITE_READONLY_RECOVERY",
  520: "SQLITE_READONLY_CANTLOCK", 776: "SQLITE_READONLY_DBMOVED", 1032: "SQLITE_READONLY_DIRECTORY", 1288: "SQLITE_READONLY_CANTINIT",
};

function translateNodeError(error: unknown): unknown {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode !== "number" || !(error instanceof Error)) return error;
  const code = EXTENDED_CODES[errcode] ?? PRIMARY_CODES[errcode & 0xff] ?? `SQLITE_${errcode}`;
  return new SqliteDriverError(error.message, code, error);
}

function plainRow(row: SqliteRow | undefined): SqliteRow | undefined {
  return row === undefined ? undefined : { ...row };
}

/** better-sqlite3 takes one array as the list of positional parameters; node:sqlite wants them spread. */
function positional(params: unknown[]): unknown[] {
  return params.length === 1 && Array.isArray(params[0]) ? (params[0] as unknown[]) : params;
}

class NodeStatement implements SqliteStatement {
  constructor(private readonly statement: NodeSqliteStatement) {}

  run(...params: unknown[]): SqliteRunResult {
    try {
      const result = this.statement.run(...positional(params));
      return { changes: Number(result.changes), lastInsertRowid: result.lastInsertRowid };
    } catch (error) {
      throw translateNodeError(error);
    }
  }

  get(...params: unknown[]): SqliteRow | undefined {
    try {
      return plainRow(this.statement.get(...positional(params)));
    } catch (error) {
      throw translateNodeError(error);
    }
  }

  all(...params: unknown[]): SqliteRow[] {
    try {
      return this.statement.all(...positional(params)).map((row) => ({ ...row }));
    } catch (error) {
      throw translateNodeError(error);
    }
  }

  *iterate(...params: unknown[]): IterableIterator<SqliteRow> {
    const rows = (this.statement.iterate as NonNullable<NodeSqliteStatement["iterate"]>).call(this.statement, ...positional(params));
    while (true) {
      let next: IteratorResult<SqliteRow>;
      try {
        next = rows.next();
      } catch (error) {
        throw translateNodeError(error);
      }
      if (next.done) return;
      yield { ...next.value };
    }
  }
}

class NodeConnection extends BaseConnection {
  readonly driver = "node:sqlite" as const;
  constructor(private readonly db: NodeSqliteDatabase) {
    super();
  }
  get open(): boolean {
    return this.db.isOpen;
  }
  get inTransaction(): boolean {
    return this.db.isOpen && this.db.isTransaction;
  }
  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (error) {
      throw translateNodeError(error);
    }
  }
  prepare(sql: string): SqliteStatement {
    try {
      return new NodeStatement(this.db.prepare(sql));
    } catch (error) {
      throw translateNodeError(error);
    }
  }
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function openNodeSqlite(file: string, options: SqliteOpenOptions): SqliteConnection {
  const { DatabaseSync } = loadNodeSqlite() as NodeSqliteModule;
  const readOnly = options.readonly ?? false;
  if ((readOnly || options.fileMustExist) && file !== ":memory:") {
    // node:sqlite creates missing files unless read-only; check first so both drivers agree.
    try {
      accessSync(file);
    } catch {
      throw new SqliteDriverError(`unable to open database file: ${file} does not exist`, "SQLITE_CANTOPEN", undefined);
    }
  }
  try {
    return new NodeConnection(new DatabaseSync(file, { readOnly }));
  } catch (error) {
    throw translateNodeError(error);
  }
}

// better-sqlite3 -------------------------------------------------------------------------

interface BetterStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}
interface BetterDatabase {
  exec(sql: string): void;
  prepare(sql: string): BetterStatement;
  close(): void;
  readonly open: boolean;
  readonly inTransaction: boolean;
}
type BetterConstructor = new (file: string, options: { readonly?: boolean; fileMustExist?: boolean }) => BetterDatabase;

class BetterConnection extends BaseConnection {
  readonly driver = "better-sqlite3" as const;
  constructor(private readonly db: BetterDatabase) {
    super();
  }
  get open(): boolean {
    return this.db.open;
  }
  get inTransaction(): boolean {
    return this.db.open && this.db.inTransaction;
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  prepare(sql: string): SqliteStatement {
    return this.db.prepare(sql) as SqliteStatement;
  }
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function openBetterSqlite(file: string, options: SqliteOpenOptions): SqliteConnection {
  let Database: BetterConstructor;
  try {
    Database = require("better-sqlite3") as BetterConstructor;
  } catch (error) {
    throw new Error(
      `no SQLite driver on Node ${process.version}: node:sqlite needs Node >= 22.13, and better-sqlite3 could not be loaded (${error instanceof Error ? error.message : String(error)}); reinstall with python3, make and g++ available, or use a newer Node`,
      { cause: error },
    );
  }
  const readonly = options.readonly ?? false;
  return new BetterConnection(new Database(file, { readonly, fileMustExist: readonly || (options.fileMustExist ?? false) }));
}
