import { JunctionError, configError, permanentError, transientError } from "../../core/errors.js";

const TRANSIENT_PREFIXES = ["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_NOMEM", "SQLITE_PROTOCOL", "SQLITE_INTERRUPT"];
const ROW_LEVEL_PREFIXES = ["SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_TOOBIG", "SQLITE_RANGE"];

export function sqliteErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

export function isTransientSqliteError(error: unknown): boolean {
  const code = sqliteErrorCode(error);
  return code !== undefined && TRANSIENT_PREFIXES.some((prefix) => code.startsWith(prefix));
}

/** Errors caused by one row's values (constraint, datatype): only that row is rejected. */
export function isRowLevelSqliteError(error: unknown): boolean {
  const code = sqliteErrorCode(error);
  return code !== undefined && ROW_LEVEL_PREFIXES.some((prefix) => code.startsWith(prefix));
}

/** A JunctionError of the right kind for an error thrown by the SQLite driver while doing `what`. */
export function sqliteFailure(error: unknown, what: string): JunctionError {
  if (error instanceof JunctionError) return error;
  const code = sqliteErrorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  const options = { code: "sqlite.error", context: { sqlite_code: code }, cause: error };
  if (isTransientSqliteError(error)) {
    return transientError(`${what}: ${reason} (${code}); the database is busy or unavailable, the write will be retried`, { ...options, code: "sqlite.busy" });
  }
  if (isRowLevelSqliteError(error)) {
    return permanentError(`${what}: row rejected: ${reason}; fix the data or the mapping, then replay the dead letter`, { ...options, code: "sqlite.row_rejected" });
  }
  if (/no such table/i.test(reason)) {
    return configError(`${what}: ${reason}; create the table first or set create_table: true`, { ...options, code: "sqlite.no_such_table" });
  }
  if (code?.startsWith("SQLITE_READONLY")) {
    return configError(`${what}: ${reason}; the database is read-only, check file permissions and the readonly option`, { ...options, code: "sqlite.readonly" });
  }
  return permanentError(`${what}: ${reason}`, options);
}
