import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { redisError, replyCode } from "./redis-errors.js";
import { autoClaimReply, deliveryCounts, readGroupEntries } from "./stream-replies.js";
import type { StreamEntry } from "./stream-replies.js";

/** KEYS: dead-letter stream, source stream; ARGV: group, entry id, fields… */
const MOVE_SCRIPT = `redis.call("XADD", KEYS[1], "*", unpack(ARGV, 3))
return redis.call("XACK", KEYS[2], ARGV[1], ARGV[2])`;

/** An entry handed to this consumer, with its delivery count from the group's pending list. */
export interface DeliveredEntry {
  id: string;
  fields: string[];
  deliveries: number;
}

export interface GroupRead {
  entries: DeliveredEntry[];
  /** The last id the reply held (deleted entries included), to continue a pending-list read after it. */
  last: string | undefined;
}

export interface ClaimRead extends GroupRead {
  cursor: string;
}

/**
 * One consumer of one consumer group: the stream commands the source needs. Reads go
 * through the `reader` client passed in (a blocking read holds its connection); acks,
 * claims that reset the idle time and group creation use the shared command client.
 */
export class ConsumerGroup {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly #commands: Redis;
  readonly #logger: Logger;

  constructor(commands: Redis, names: { stream: string; group: string; consumer: string }, logger: Logger) {
    this.#commands = commands;
    this.stream = names.stream;
    this.group = names.group;
    this.consumer = names.consumer;
    this.#logger = logger;
  }

  /** XGROUP CREATE … MKSTREAM; an existing group is kept as it is, with its position. */
  async ensure(start: "earliest" | "latest"): Promise<void> {
    try {
      await this.#commands.call("XGROUP", "CREATE", this.stream, this.group, start === "earliest" ? "0" : "$", "MKSTREAM");
      this.#logger.info({ stream: this.stream, group: this.group, start }, `created consumer group ${this.group} on stream ${this.stream}`);
    } catch (error) {
      if (replyCode(errorText(error)) === "BUSYGROUP") return;
      throw redisError(error, `creating consumer group ${this.group} on stream ${this.stream}`);
    }
  }

  /**
   * This consumer's own pending entries after `after` ("0": from the start), the ones a
   * previous process with the same consumer name read and never acknowledged. Reading
   * them again counts as a delivery; the counts come from XPENDING in the same round trip.
   */
  async readOwnPending(reader: Redis, after: string, count: number): Promise<GroupRead> {
    const start = after === "0" ? "-" : `(${after}`;
    const replies = await this.#exec(
      reader
        .pipeline()
        .call("XREADGROUP", "GROUP", this.group, this.consumer, "COUNT", String(count), "STREAMS", this.stream, after)
        .call("XPENDING", this.stream, this.group, start, "+", String(count), this.consumer),
      "reading this consumer's pending entries",
    );
    const raw = readGroupEntries(replies[0]);
    const counts = deliveryCounts(replies[1]);
    const entries = await this.#present(raw, (id) => counts.get(id) ?? 1);
    return { entries, last: raw.at(-1)?.id };
  }

  /** New entries (">"), waiting up to `blockMs` for some when there are none (no wait when undefined). */
  async readNew(reader: Redis, count: number, blockMs: number | undefined): Promise<DeliveredEntry[]> {
    const block = blockMs === undefined || blockMs <= 0 ? [] : ["BLOCK", String(Math.ceil(blockMs))];
    let reply: unknown;
    try {
      reply = await reader.call("XREADGROUP", "GROUP", this.group, this.consumer, "COUNT", String(count), ...block, "STREAMS", this.stream, ">");
    } catch (error) {
      throw redisError(error, `reading stream ${this.stream} as ${this.consumer} in group ${this.group}`);
    }
    return this.#present(readGroupEntries(reply), () => 1);
  }

  /**
   * XAUTOCLAIM: takes over entries pending longer than `minIdleMs` with any consumer of the
   * group (one that died, or this one after handing an entry back), counting a delivery.
   */
  async claimIdle(reader: Redis, cursor: string, minIdleMs: number, count: number): Promise<ClaimRead> {
    let reply: unknown;
    try {
      reply = await reader.call("XAUTOCLAIM", this.stream, this.group, this.consumer, String(Math.ceil(minIdleMs)), cursor, "COUNT", String(count));
    } catch (error) {
      throw redisError(error, `claiming idle entries of stream ${this.stream} in group ${this.group}`);
    }
    const claimed = autoClaimReply(reply);
    if (claimed.deleted.length > 0) this.#warnGone(claimed.deleted);
    const present = claimed.entries.filter((entry) => entry.fields !== null);
    let counts = new Map<string, number>();
    if (present.length > 0) {
      const pipeline = reader.pipeline();
      for (const entry of present) pipeline.call("XPENDING", this.stream, this.group, entry.id, entry.id, "1");
      const rows = await this.#exec(pipeline, "reading delivery counts of claimed entries");
      counts = deliveryCounts(rows.flatMap((row) => (Array.isArray(row) ? row : [])));
    }
    const entries = await this.#present(claimed.entries, (id) => counts.get(id) ?? 1);
    return { cursor: claimed.cursor, entries, last: claimed.entries.at(-1)?.id };
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.#commands.call("XACK", this.stream, this.group, ...ids);
    } catch (error) {
      throw redisError(error, `acknowledging ${ids.length} entries of stream ${this.stream}`);
    }
  }

  /**
   * Leaves an entry pending with its idle time set to zero (XCLAIM … IDLE 0 JUSTID, which
   * counts no delivery): it is claimed again once it has been idle for claim_idle.
   */
  async handBack(id: string): Promise<void> {
    try {
      await this.#commands.call("XCLAIM", this.stream, this.group, this.consumer, "0", id, "IDLE", "0", "JUSTID");
    } catch (error) {
      throw redisError(error, `handing entry ${id} of stream ${this.stream} back`);
    }
  }

  /**
   * Adds `fields` to `deadLetterStream` and acknowledges the entry, both or neither. A Lua
   * script rather than MULTI/EXEC: inside MULTI a failing XADD (the key holds another type)
   * would not stop the XACK, and the entry would be acknowledged without its dead letter.
   */
  async moveTo(deadLetterStream: string, id: string, fields: readonly string[]): Promise<void> {
    try {
      await this.#commands.eval(MOVE_SCRIPT, 2, deadLetterStream, this.stream, this.group, id, ...fields);
    } catch (error) {
      throw redisError(error, `dead-lettering entry ${id} of stream ${this.stream} into ${deadLetterStream}`);
    }
  }

  /** Entries with data; the ones trimmed or deleted while pending are acknowledged and skipped with a warning. */
  async #present(entries: StreamEntry[], deliveries: (id: string) => number): Promise<DeliveredEntry[]> {
    const present: DeliveredEntry[] = [];
    const gone: string[] = [];
    for (const entry of entries) {
      if (entry.fields === null) gone.push(entry.id);
      else present.push({ id: entry.id, fields: entry.fields, deliveries: deliveries(entry.id) });
    }
    if (gone.length > 0) {
      await this.ack(gone);
      this.#warnGone(gone);
    }
    return present;
  }

  #warnGone(ids: string[]): void {
    this.#logger.warn(
      { stream: this.stream, group: this.group, entries: ids.slice(0, 20), count: ids.length },
      `${ids.length} pending entries of stream ${this.stream} no longer exist (trimmed by MAXLEN/XTRIM or deleted before they were processed): acknowledged and skipped`,
    );
  }

  async #exec(commands: { exec(): Promise<Array<[Error | null, unknown]> | null> }, doing: string): Promise<unknown[]> {
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await commands.exec();
    } catch (error) {
      throw redisError(error, doing);
    }
    if (results === null) throw redisError(new Error("the transaction was discarded"), doing);
    return results.map(([error, value]) => {
      if (error) throw redisError(error, doing);
      return value;
    });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
