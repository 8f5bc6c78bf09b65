import { JunctionError, configError, permanentError, transientError } from "../../core/errors.js";

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENOTCONN", "ENOTFOUND"]);
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "57014", "40001", "40P01", "53300", "55P03"]);
const CONFIG_SQLSTATES = new Set(["42P01", "42703", "42501", "3D000", "3F000"]);
// pg's own messages for a connection that broke or never opened carry no code.
const CONNECTION_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection error|not queryable|Connection terminated/i;

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function nodeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isTransientPostgresError(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith("08") || state.startsWith("53") || TRANSIENT_SQLSTATES.has(state);
  const code = nodeCode(error);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isTransientPostgresError);
  return error instanceof Error && CONNECTION_MESSAGE.test(error.message);
}

/** Errors caused by one row's values (data exception, constraint, a key hit twice): only that row is rejected. */
export function isRowLevelPostgresError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith("22") || state.startsWith("23") || state === "21000");
}

/** A JunctionError of the right kind for an error thrown by node-postgres while doing `what`. */
export function postgresFailure(error: unknown, what: string): JunctionError {
  if (error instanceof JunctionError) return error;
  const state = sqlState(error);
  const reason = describeCause(error);
  const options = { code: "postgres.error", context: state === undefined ? {} : { sqlstate: state }, cause: error };
  if (isTransientPostgresError(error)) {
    return transientError(`${what}: ${reason}; the database is unreachable or busy, will retry`, { ...options, code: "postgres.unavailable" });
  }
  if (state?.startsWith("28")) {
    return new JunctionError(`${what}: ${reason}; check user and password (or the url)`, { ...options, kind: "auth", code: "postgres.auth" });
  }
  if (state !== undefined && CONFIG_SQLSTATES.has(state)) {
    const hint =
      state === "42501"
        ? "grant the user the privilege it needs"
        : state === "42P01"
          ? "create the table first (or set create_table: true on a target), and check the schema option"
          : "check the table, column names and the schema option";
    return configError(`${what}: ${reason}; ${hint}`, { ...options, code: "postgres.config" });
  }
  if (isRowLevelPostgresError(error)) {
    return permanentError(`${what}: row rejected: ${reason}; fix the data or the mapping, then replay the dead letter`, { ...options, code: "postgres.row_rejected" });
  }
  return permanentError(`${what}: ${reason}`, options);
}

function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeCause).join("; ");
  const message = error instanceof Error ? error.message : String(error);
  const detail = (error as { detail?: unknown } | null)?.detail;
  const state = sqlState(error);
  const code = state ?? nodeCode(error);
  return `${message === "" ? "connection failed" : message}${typeof detail === "string" ? ` (${detail})` : ""}${code === undefined ? "" : ` [${code}]`}`;
}
