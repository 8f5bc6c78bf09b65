import { JunctionError, configError, permanentError, transientError } from "../../core/errors.js";
import type { JunctionErrorOptions } from "../../core/errors.js";

/** Connection-level and contention errors: retrying later can succeed. */
const TRANSIENT_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_TOO_MANY_USER_CONNECTIONS",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
  "ER_QUERY_INTERRUPTED",
  "ER_CLIENT_INTERACTION_TIMEOUT",
]);

/** Errors caused by one row's values: only that row is rejected. */
const ROW_LEVEL_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1062, // ER_DUP_ENTRY
  1216, // ER_NO_REFERENCED_ROW
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1364, // ER_NO_DEFAULT_FOR_FIELD
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1406, // ER_DATA_TOO_LONG
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB, e.g. JSON_VALID)
]);

const AUTH_ERRNOS = new Set([1044, 1045, 1142, 1143, 1227, 1251, 1698]);
const CONFIG_ERRNOS = new Set([1046, 1049, 1054, 1064, 1109, 1146, 1149]);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  sqlMessage?: unknown;
}

export function mysqlErrno(error: unknown): number | undefined {
  const errno = (error as DriverError | null)?.errno;
  return typeof errno === "number" ? errno : undefined;
}

function mysqlCode(error: unknown): string | undefined {
  const code = (error as DriverError | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isTransientMysqlError(error: unknown): boolean {
  if (error instanceof JunctionError) return error.kind === "transient";
  const code = mysqlCode(error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  // mysql2 marks errors after which the connection is unusable as fatal.
  return (error as DriverError | null)?.fatal === true && mysqlErrno(error) === undefined;
}

export function isRowLevelMysqlError(error: unknown): boolean {
  const errno = mysqlErrno(error);
  return errno !== undefined && ROW_LEVEL_ERRNOS.has(errno);
}

/** The driver's reason, with `secret` (the password) removed wherever it appears. */
export function mysqlReason(error: unknown, secret?: string): string {
  let reason = error instanceof Error ? error.message : String(error);
  if (reason === "" && error instanceof AggregateError) reason = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join("; ");
  if (reason === "") reason = mysqlCode(error) ?? "unknown error";
  if (secret !== undefined && secret !== "") reason = reason.split(secret).join("***");
  return reason;
}

/** A JunctionError of the right kind for an error thrown by mysql2 while doing `what`. */
export function mysqlFailure(error: unknown, what: string, secret?: string): JunctionError {
  if (error instanceof JunctionError) return error;
  const code = mysqlCode(error);
  const errno = mysqlErrno(error);
  const reason = mysqlReason(error, secret);
  const options: Omit<JunctionErrorOptions, "kind"> = { code: "mysql.error", context: { mysql_code: code, errno }, cause: error };
  if (isTransientMysqlError(error)) {
    return transientError(`${what}: ${reason}; the server is unreachable or busy, will retry`, { ...options, code: "mysql.unavailable" });
  }
  if (errno !== undefined && AUTH_ERRNOS.has(errno)) {
    return new JunctionError(`${what}: ${reason}; check user, password and the user's grants`, { ...options, kind: "auth", code: "mysql.access_denied" });
  }
  if (errno === 1146 || errno === 1109) {
    return configError(`${what}: ${reason}; check the table name, create the table first or set create_table: true on a target`, { ...options, code: "mysql.no_such_table" });
  }
  if (errno === 1054) {
    return configError(`${what}: ${reason}; check columns, key, cursor and where, or map the payload fields to the table's columns`, { ...options, code: "mysql.unknown_column" });
  }
  if (errno !== undefined && CONFIG_ERRNOS.has(errno)) {
    return configError(`${what}: ${reason}; check the connection database, query and where options`, { ...options, code: "mysql.bad_sql" });
  }
  if (isRowLevelMysqlError(error)) {
    return permanentError(`${what}: row rejected: ${reason}; fix the data or the mapping, then replay the dead letter`, { ...options, code: "mysql.row_rejected" });
  }
  return permanentError(`${what}: ${reason}`, options);
}
