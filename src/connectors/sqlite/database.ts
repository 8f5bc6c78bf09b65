import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { openSqlite } from "../../state/sqlite/sqlite-driver.js";
import type { SqliteConnection } from "../../state/sqlite/sqlite-driver.js";
import { configError, transientError } from "../../core/errors.js";
import { isTransientSqliteError } from "./sqlite-errors.js";
import type { HealthResult } from "../../core/health.js";

export type SqliteHandle = SqliteConnection;

export interface SqliteDatabaseOptions {
  readonly: boolean;
  busyTimeoutMs: number;
}

/**
 * One SQLite connection, opened on first use so that a missing file is reported
 * by the health check instead of failing startup.
 */
export class SqliteDatabase {
  readonly file: string;
  readonly options: SqliteDatabaseOptions;
  #db: SqliteHandle | undefined;
  #closed = false;

  constructor(file: string, options: SqliteDatabaseOptions) {
    this.file = file;
    this.options = options;
  }

  get readonly(): boolean {
    return this.options.readonly;
  }

  /** The open handle; throws a config JunctionError saying what to fix when the file cannot be opened. */
  open(): SqliteHandle {
    if (this.#closed) throw configError(`SQLite database ${this.file} is closed`, { code: "sqlite.closed" });
    if (this.#db) return this.#db;
    let db: SqliteHandle | undefined;
    try {
      if (!this.options.readonly) mkdirSync(dirname(this.file), { recursive: true });
      db = openSqlite(this.file, { readonly: this.options.readonly, busyTimeoutMs: this.options.busyTimeoutMs });
      if (!this.options.readonly) db.pragma("journal_mode = WAL");
    } catch (error) {
      db?.close();
      const reason = error instanceof Error ? error.message : String(error);
      if (isTransientSqliteError(error)) {
        throw transientError(`cannot open SQLite database ${this.file} now: ${reason}; another connection holds a lock, will retry`, { code: "sqlite.busy", cause: error });
      }
      throw configError(
        `cannot open SQLite database ${this.file}: ${reason}; check that the directory exists and is writable${this.options.readonly ? " and that the file exists (readonly)" : ""}`,
        { code: "sqlite.cannot_open", cause: error },
      );
    }
    this.#db = db;
    return db;
  }

  health(): HealthResult {
    const started = performance.now();
    try {
      this.open().prepare("select 1").get();
      return { status: "healthy", latencyMs: performance.now() - started, detail: this.file };
    } catch (error) {
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  close(): void {
    this.#closed = true;
    this.#db?.close();
    this.#db = undefined;
  }
}
