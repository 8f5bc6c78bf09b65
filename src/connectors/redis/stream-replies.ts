/**
 * Readers of the stream command replies, as ioredis hands them over with `call`: RESP2
 * nests XREADGROUP's reply as `[[key, entries]]`, RESP3 (ioredis 6's default, legacy
 * mapping) flattens the map to `[key, entries]`; both are accepted.
 */

/** One stream entry; `fields` is null when the entry was trimmed or deleted while pending. */
export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = typeof reply[0] === "string" ? reply[1] : (reply[0] as unknown[] | undefined)?.[1];
  return entryList(entries);
}

export interface AutoClaimReply {
  /** "0-0" once the whole pending list has been scanned. */
  cursor: string;
  entries: StreamEntry[];
  /** Pending entries whose data no longer exists (Redis 7 removes them from the pending list itself). */
  deleted: string[];
}

export function autoClaimReply(reply: unknown): AutoClaimReply {
  const [cursor, entries, deleted] = Array.isArray(reply) ? reply : [];
  return {
    cursor: typeof cursor === "string" ? cursor : "0-0",
    entries: entryList(entries),
    deleted: Array.isArray(deleted) ? deleted.filter((id): id is string => typeof id === "string") : [],
  };
}

/** Delivery counts from the extended form of XPENDING: `[[id, consumer, idle, count], …]`. */
export function deliveryCounts(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) return counts;
  for (const row of reply) {
    if (!Array.isArray(row) || typeof row[0] !== "string") continue;
    const count = Number(row[3]);
    if (Number.isFinite(count)) counts.set(row[0], count);
  }
  return counts;
}

function entryList(entries: unknown): StreamEntry[] {
  if (!Array.isArray(entries)) return [];
  const out: StreamEntry[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
    const fields = entry[1];
    out.push({ id: entry[0], fields: Array.isArray(fields) ? fields.map(String) : null });
  }
  return out;
}
