import { createHash } from "node:crypto";
import { hostname } from "node:os";

const MAX_LENGTH = 64;

/**
 * The default client identifier, `junction-<host>-<connection>`: the same on every start
 * of the same config on the same machine, so that the persistent session (subscriptions,
 * queued and unacknowledged messages) is found again after a restart or a crash. Kept to
 * characters every broker accepts; a long one is shortened with a hash to stay unique.
 */
export function defaultClientId(connectionName: string, host: string = hostname()): string {
  const full = `junction-${host}-${connectionName}`.replace(/[^A-Za-z0-9_-]/g, "_");
  if (full.length <= MAX_LENGTH) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 10);
  return `${full.slice(0, MAX_LENGTH - hash.length - 1)}-${hash}`;
}
