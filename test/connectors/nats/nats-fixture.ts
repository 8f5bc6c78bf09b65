// Unique stream, consumer and subject names per test file, a raw nats.js connection to set
// up and inspect, and helpers to drive the nats connector against the local server.
import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerInfo, JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { natsConnector } from "../../../src/connectors/nats/index.js";
import type { NatsConnectionConfig, NatsSinkOptions, NatsSourceOptions } from "../../../src/connectors/nats/schema.js";
import type { Batch, Connection, Sink, Source, SourceContext } from "../../../src/connectors/types.js";
import type { Message } from "../../../src/core/message.js";
import { runtimeContext, sinkContext, sourceContext } from "../connector-context.js";

export const NATS_URL = "nats://127.0.0.1:4222";

export type NatsTestConnection = Connection<NatsSourceOptions, NatsSinkOptions>;

export class NatsFixture {
  /** Upper-case letters, digits and underscores: valid in stream, consumer and subject names. */
  readonly prefix: string;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  readonly #streams = new Set<string>();
  readonly #connections: NatsTestConnection[] = [];
  #counter = 0;

  constructor(label: string) {
    this.prefix = `JT_${label.toUpperCase()}_${process.pid}_${randomBytes(3).toString("hex").toUpperCase()}`;
  }

  async setUp(): Promise<void> {
    this.nc = await connect({ servers: NATS_URL });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
  }

  async tearDown(): Promise<void> {
    for (const connection of this.#connections) await connection.close().catch(() => undefined);
    const names = new Set(this.#streams);
    for await (const name of this.jsm.streams.names()) if (name.startsWith(this.prefix)) names.add(name);
    for (const name of names) await this.jsm.streams.delete(name).catch(() => undefined);
    await this.nc.close();
  }

  /** A fresh name; a stream of that name is deleted at tear-down. */
  name(what: string): string {
    this.#counter += 1;
    const name = `${this.prefix}_${what.toUpperCase()}${this.#counter}`;
    this.#streams.add(name);
    return name;
  }

  /** A stream `name` storing `<name>.>`, created directly (not through the connector). */
  async stream(what: string, extra: { duplicate_window?: number } = {}): Promise<{ stream: string; subject: (suffix?: string) => string }> {
    const stream = this.name(what);
    await this.jsm.streams.add({ name: stream, subjects: [`${stream}.>`], ...extra });
    return { stream, subject: (suffix = "events") => `${stream}.${suffix}` };
  }

  async connect(extra: Partial<NatsConnectionConfig> = {}, logger?: Logger): Promise<NatsTestConnection> {
    const ctx = runtimeContext(process.cwd());
    const connection = await natsConnector.connect({ servers: NATS_URL, ...extra }, logger === undefined ? ctx : { ...ctx, logger });
    this.#connections.push(connection);
    return connection;
  }

  source(connection: NatsTestConnection, options: NatsSourceOptions, ctx: Partial<SourceContext> = {}): Source {
    return (connection.source as NonNullable<NatsTestConnection["source"]>)(options, sourceContext(ctx));
  }

  sink(connection: NatsTestConnection, options: NatsSinkOptions): Sink {
    return (connection.sink as NonNullable<NatsTestConnection["sink"]>)(options, sinkContext);
  }

  async publish(subject: string, body: unknown, headers: Record<string, string> = {}, msgID?: string): Promise<number> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    const data = typeof body === "string" ? body : JSON.stringify(body);
    const ack = await this.js.publish(subject, data, { headers: h, ...(msgID === undefined ? {} : { msgID }) });
    return ack.seq;
  }

  async consumerInfo(stream: string, consumer: string): Promise<ConsumerInfo> {
    return this.jsm.consumers.info(stream, consumer);
  }

  async messageCount(stream: string): Promise<number> {
    return (await this.jsm.streams.info(stream)).state.messages;
  }

  async storedMessages(stream: string): Promise<StoredMsg[]> {
    const count = (await this.jsm.streams.info(stream)).state.last_seq;
    const out: StoredMsg[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const msg = await this.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (msg !== null) out.push(msg);
    }
    return out;
  }
}

/** Pulls one batch from a following source (waits for it), leaving the iterator open. */
export async function firstBatch(source: Source, signal: AbortSignal): Promise<{ batch: Batch; iterator: AsyncIterator<Batch> }> {
  const iterator = source.batches(signal)[Symbol.asyncIterator]();
  const result = await iterator.next();
  if (result.done === true) throw new Error("the source ended without a batch");
  return { batch: result.value, iterator };
}

/** One open iteration of a following source, read batch by batch (as the engine does). */
export class SourceReader {
  readonly #controller = new AbortController();
  readonly #iterator: AsyncIterator<Batch>;

  constructor(source: Source) {
    this.#iterator = source.batches(this.#controller.signal)[Symbol.asyncIterator]();
  }

  /** The next batch; fails after `timeoutMs` without one. */
  async next(timeoutMs = 15_000): Promise<Batch> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no batch within ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([this.#iterator.next(), timeout]);
      if (result.done === true) throw new Error("the source ended");
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Batches until they hold `count` messages together (messages of one pull may arrive in several batches). */
  async nextMessages(count: number): Promise<{ batches: Batch[]; messages: Message[] }> {
    const batches: Batch[] = [];
    const messages: Message[] = [];
    while (messages.length < count) {
      const batch = await this.next();
      batches.push(batch);
      messages.push(...batch.messages);
    }
    return { batches, messages };
  }

  /** Stops the source the way the engine does: abort, then return. */
  async close(): Promise<void> {
    this.#controller.abort();
    await this.#iterator.return?.();
  }
}

/** Reads batches of a following source until `count` messages arrived (acking each batch unless told not to). */
export async function collect(source: Source, count: number, options: { ack?: boolean; timeoutMs?: number } = {}): Promise<Batch[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 15_000);
  const batches: Batch[] = [];
  let received = 0;
  try {
    for await (const batch of source.batches(controller.signal)) {
      batches.push(batch);
      if (options.ack ?? true) await batch.ack();
      received += batch.messages.length;
      if (received >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return batches;
}
