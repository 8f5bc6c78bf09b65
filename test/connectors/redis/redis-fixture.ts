// Unique stream, group and channel names per test file, a raw ioredis client to set up and
// inspect, and helpers to drive the redis connector against the local server.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { redisConnector } from "../../../src/connectors/redis/index.js";
import type { RedisConnectionConfig, RedisSinkOptions, RedisSourceOptions } from "../../../src/connectors/redis/schema.js";
import type { Batch, Connection, Sink, Source, SourceContext } from "../../../src/connectors/types.js";
import { runtimeContext, sinkContext, sourceContext } from "../connector-context.js";

export const REDIS_URL = "redis://127.0.0.1:6379";

export type RedisConnection = Connection<RedisSourceOptions, RedisSinkOptions>;

export interface PendingRow {
  id: string;
  consumer: string;
  deliveries: number;
}

export class RedisFixture {
  readonly prefix: string;
  readonly raw: Redis;
  readonly #keys = new Set<string>();
  readonly #connections: RedisConnection[] = [];
  #counter = 0;

  constructor(label: string) {
    this.prefix = `junction-test:${label}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  }

  /** A fresh name (deleted at tear-down when it is a key). */
  name(what: string): string {
    this.#counter += 1;
    const name = `${this.prefix}:${what}${this.#counter}`;
    this.#keys.add(name);
    return name;
  }

  async tearDown(): Promise<void> {
    for (const connection of this.#connections) await connection.close();
    const keys = [...this.#keys];
    const prefixed = await this.raw.keys(`${this.prefix}*`);
    if (keys.length + prefixed.length > 0) await this.raw.del(...keys, ...prefixed);
    this.raw.disconnect();
  }

  async connect(extra: Partial<RedisConnectionConfig> = {}, logger?: Logger): Promise<RedisConnection> {
    const ctx = runtimeContext(process.cwd());
    const connection = await redisConnector.connect({ url: REDIS_URL, ...extra }, logger === undefined ? ctx : { ...ctx, logger });
    this.#connections.push(connection);
    return connection;
  }

  source(connection: RedisConnection, options: RedisSourceOptions, ctx: Partial<SourceContext> = {}): Source {
    return (connection.source as NonNullable<RedisConnection["source"]>)(options, sourceContext(ctx));
  }

  sink(connection: RedisConnection, options: RedisSinkOptions): Sink {
    return (connection.sink as NonNullable<RedisConnection["sink"]>)(options, sinkContext);
  }

  /** XADDs one entry per payload with its body in `data` (plus `extra` fields); returns the entry ids. */
  async add(stream: string, payloads: unknown[], extra: (index: number) => string[] = () => []): Promise<string[]> {
    const pipeline = this.raw.pipeline();
    payloads.forEach((payload, index) => pipeline.xadd(stream, "*", "data", typeof payload === "string" ? payload : JSON.stringify(payload), ...extra(index)));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  async pending(stream: string, group: string): Promise<PendingRow[]> {
    const rows = (await this.raw.call("XPENDING", stream, group, "-", "+", "1000")) as Array<[string, string, number, number]>;
    return rows.map(([id, consumer, , deliveries]) => ({ id, consumer, deliveries }));
  }

  /** Every entry of a stream as an object of its fields. */
  async entries(stream: string): Promise<Array<{ id: string; fields: Record<string, string> }>> {
    const rows = await this.raw.xrange(stream, "-", "+");
    return rows.map(([id, list]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
      return { id, fields };
    });
  }
}

/** The next batch of an iterator, failing the test when the source ended. */
export async function nextBatch(iterator: AsyncIterator<Batch>): Promise<Batch> {
  const result = await iterator.next();
  if (result.done) throw new Error("the source ended before a batch came");
  return result.value;
}

/** Payloads of every message of batches pulled until `count` messages arrived, acking each batch. */
export async function collect(iterator: AsyncIterator<Batch>, count: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  let seen = 0;
  while (seen < count) {
    const batch = await nextBatch(iterator);
    batches.push(batch);
    seen += batch.messages.length;
  }
  return batches;
}
