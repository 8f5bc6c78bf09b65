import { realpathSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Names a SQLite database file by its real path, so the state store and a sqlite target
 * reaching it through a relative path or a symlink know they share it. undefined when the
 * file does not exist yet.
 */
export function sqliteDatabaseIdentity(file: string): string | undefined {
  try {
    return `sqlite:${realpathSync(resolve(file))}`;
  } catch {
    return undefined;
  }
}
