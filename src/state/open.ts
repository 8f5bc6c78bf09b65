import { configError, errorKind, errorMessage, JunctionError } from "../core/errors.js";
import { PostgresStateStore } from "./postgres/postgres-state-store.js";
import { SqliteStateStore } from "./sqlite/sqlite-state-store.js";
import { parseStateUrl, type StateTarget, type StateUrlOptions } from "./state-url.js";
import type { StateStore } from "./types.js";

export { describeStateLocation } from "./state-url.js";

/**
 * Opens the store named by a `state:` URL and applies pending migrations:
 * `sqlite:path.db` (relative to `baseDir`), `sqlite::memory:`, or
 * `postgres://…`/`postgresql://…` with an optional `?schema=name`.
 */
export async function openStateStore(url: string, options: StateUrlOptions = {}): Promise<StateStore> {
  const target = parseStateUrl(url, options);
  const store = createStore(target);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw preparationFailure(target, error);
  }
  return store;
}

function createStore(target: StateTarget): StateStore {
  if (target.kind === "postgres") {
    const options = { connectionString: target.connectionString, location: target.location };
    return new PostgresStateStore(target.schema === undefined ? options : { ...options, schema: target.schema });
  }
  try {
    return new SqliteStateStore(target.filename, { location: target.location });
  } catch (error) {
    throw configError(`cannot open the SQLite state store ${target.filename}: ${errorMessage(error)}; check that the directory exists or can be created and is writable`, {
      code: "state.open_failed",
      cause: error,
    });
  }
}

const POSTGRES_AUTH_CODES = new Set(["28000", "28P01"]);
const POSTGRES_CONFIG_CODES = new Set(["3D000", "42501", "3F000"]);

function preparationFailure(target: StateTarget, error: unknown): JunctionError {
  if (error instanceof JunctionError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = `cannot prepare the state store ${target.location}: ${errorMessage(error)}`;
  if (typeof code === "string" && POSTGRES_AUTH_CODES.has(code)) {
    return new JunctionError(`${message}; check the user and password in the state URL`, { kind: "auth", code: "state.auth_failed", cause: error });
  }
  if (typeof code === "string" && POSTGRES_CONFIG_CODES.has(code)) {
    return configError(`${message}; check the database, schema and the user's privileges`, { code: "state.open_failed", cause: error });
  }
  const kind = errorKind(error);
  const hint = kind === "transient" ? "; check that the database is running and reachable" : "";
  return new JunctionError(`${message}${hint}`, { kind, code: "state.open_failed", cause: error });
}
