import { isAbsolute, resolve } from "node:path";
import { configError } from "../core/errors.js";

export type StateTarget =
  | { kind: "sqlite"; /** Absolute path, or ":memory:". */ filename: string; location: string }
  | { kind: "postgres"; /** The URL for `pg`, without the `schema` parameter. */ connectionString: string; schema?: string; location: string };

export interface StateUrlOptions {
  /** Directory that relative SQLite paths are resolved against; defaults to the working directory. */
  baseDir?: string;
}

const ACCEPTED_FORMS =
  'use "sqlite:.junction/state.db" (a path relative to the config file, or absolute), "sqlite::memory:", or "postgres://user@host:5432/database?schema=junction"';

/** PostgreSQL identifiers Junction accepts as a schema name (unquoted form, at most 63 bytes). */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** Parses a `state:` URL into what is needed to open the store. Throws a config error for anything else. */
export function parseStateUrl(url: string, options: StateUrlOptions = {}): StateTarget {
  const text = url.trim();
  if (text.startsWith("sqlite:")) return parseSqliteUrl(text, options);
  if (/^postgres(ql)?:\/\//i.test(text)) return parsePostgresUrl(text);
  const shown = text === "" ? "an empty state URL" : `the state URL "${describeStateLocation(text)}"`;
  throw configError(`Junction cannot use ${shown}; ${ACCEPTED_FORMS}`, { code: "state.bad_url" });
}

function parseSqliteUrl(text: string, options: StateUrlOptions): StateTarget {
  let path = text.slice("sqlite:".length);
  if (path === ":memory:") return { kind: "sqlite", filename: ":memory:", location: "sqlite::memory:" };
  // "sqlite:///abs/path.db" is the common spelling of an absolute path.
  if (path.startsWith("//")) {
    if (!path.startsWith("///")) {
      throw configError(`the state URL "${text}" names a host, which SQLite does not have; ${ACCEPTED_FORMS}`, { code: "state.bad_url" });
    }
    path = path.slice(2);
  }
  if (path.trim() === "") throw configError(`the state URL "${text}" has no file path; ${ACCEPTED_FORMS}`, { code: "state.bad_url" });
  const filename = isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path);
  return { kind: "sqlite", filename, location: `sqlite:${path}` };
}

function parsePostgresUrl(text: string): StateTarget {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw configError(`the state URL "${describeStateLocation(text)}" is not a valid URL; ${ACCEPTED_FORMS}`, { code: "state.bad_url" });
  }
  const schemas = parsed.searchParams.getAll("schema");
  parsed.searchParams.delete("schema");
  if (schemas.length > 1) throw configError(`the state URL "${describeStateLocation(text)}" gives schema more than once; give it once`, { code: "state.bad_url" });
  const schema = schemas[0];
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw configError(
      `the schema "${schema}" in the state URL is not a plain PostgreSQL identifier; use letters, digits and underscores, starting with a letter or underscore (at most 63)`,
      { code: "state.bad_url" },
    );
  }
  const target: StateTarget = { kind: "postgres", connectionString: parsed.toString(), location: describeStateLocation(text) };
  if (schema !== undefined) target.schema = schema;
  return target;
}

/** The URL with any password removed (user info and `password`-like query parameters), safe for logs and errors. */
export function describeStateLocation(url: string): string {
  const text = url.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  try {
    const parsed = new URL(text);
    parsed.password = "";
    for (const name of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(name)) parsed.searchParams.delete(name);
    }
    return parsed.toString();
  } catch {
    // Not parseable: drop everything between the user name and the last "@", erring towards hiding too much.
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):.*@/i, "$1@").replace(/([?&][^=&]*pass[^=&]*=)[^&]*/gi, "$1");
  }
}
