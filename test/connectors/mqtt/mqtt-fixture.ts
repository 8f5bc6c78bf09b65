// Unique topics and client ids per test file, raw mqtt.js clients to publish and observe,
// and helpers to drive the mqtt connector against the local Mosquitto.
import { randomBytes } from "node:crypto";
import { connectAsync } from "mqtt";
import type { IClientPublishOptions, IPublishPacket, MqttClient } from "mqtt";
import { mqttConnector } from "../../../src/connectors/mqtt/index.js";
import type { MqttConnectionConfig, MqttSinkOptions, MqttSourceOptions } from "../../../src/connectors/mqtt/schema.js";
import type { Batch, Connection, RuntimeContext, Sink, Source, SourceContext } from "../../../src/connectors/types.js";
import { runtimeContext, sinkContext, sourceContext } from "../connector-context.js";

export const MQTT_URL = "mqtt://127.0.0.1:1883";

export type MqttConnection = Connection<MqttSourceOptions, MqttSinkOptions>;

export interface Observed {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

export class MqttFixture {
  readonly prefix: string;
  readonly #idPrefix: string;
  readonly #clientIds = new Set<string>();
  readonly #retainedTopics = new Set<string>();
  readonly #connections: MqttConnection[] = [];
  readonly #raw: MqttClient[] = [];
  #counter = 0;

  constructor(label: string) {
    const unique = `${process.pid}-${randomBytes(3).toString("hex")}`;
    this.prefix = `junction-test/${label}/${unique}`;
    this.#idPrefix = `jt-${label}-${unique}`;
  }

  topic(what: string): string {
    this.#counter += 1;
    return `${this.prefix}/${what}${this.#counter}`;
  }

  /** A client id whose session is removed at tear-down. */
  clientId(what: string): string {
    this.#counter += 1;
    const id = `${this.#idPrefix}-${what}${this.#counter}`;
    this.#clientIds.add(id);
    return id;
  }

  retained(topic: string): void {
    this.#retainedTopics.add(topic);
  }

  async connect(extra: Partial<MqttConnectionConfig> = {}, ctx: Partial<RuntimeContext> = {}): Promise<MqttConnection> {
    const config: MqttConnectionConfig = { url: MQTT_URL, client_id: this.clientId("conn"), ...extra };
    if (config.client_id !== undefined) this.#clientIds.add(config.client_id);
    const connection = await mqttConnector.connect(config, { ...runtimeContext(process.cwd()), ...ctx });
    this.#connections.push(connection);
    return connection;
  }

  source(connection: MqttConnection, options: MqttSourceOptions, ctx: Partial<SourceContext> = {}): Source {
    return (connection.source as NonNullable<MqttConnection["source"]>)(options, sourceContext({ follow: true, ...ctx }));
  }

  sink(connection: MqttConnection, options: MqttSinkOptions, integration = "test"): Sink {
    return (connection.sink as NonNullable<MqttConnection["sink"]>)(options, { ...sinkContext, integration });
  }

  /** A raw mqtt.js client (closed at tear-down). */
  async raw(version: 4 | 5 = 5): Promise<MqttClient> {
    const client = await connectAsync(MQTT_URL, { protocolVersion: version, reconnectPeriod: 0, clientId: this.clientId("raw") });
    this.#raw.push(client);
    return client;
  }

  async publish(topic: string, payloads: unknown[], options: IClientPublishOptions = { qos: 1 }, version: 4 | 5 = 5): Promise<void> {
    const client = await this.raw(version);
    for (const payload of payloads) {
      const body = Buffer.isBuffer(payload) ? payload : typeof payload === "string" ? payload : JSON.stringify(payload);
      await client.publishAsync(topic, body, options);
    }
    await client.endAsync();
  }

  /** Subscribes a raw client to `filter` and collects what arrives. */
  async observe(filter: string, version: 4 | 5 = 5): Promise<{ received: Observed[]; until(count: number, timeoutMs?: number): Promise<Observed[]> }> {
    const client = await this.raw(version);
    const received: Observed[] = [];
    client.on("message", (topic, payload, packet) => received.push({ topic, payload, packet }));
    await client.subscribeAsync(filter, { qos: 2 });
    return {
      received,
      async until(count: number, timeoutMs = 5000): Promise<Observed[]> {
        const deadline = Date.now() + timeoutMs;
        while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        return received;
      },
    };
  }

  /** Creates a persistent session subscribed to `filter`, then disconnects (messages now wait for it). */
  async createSession(clientId: string, filter: string, qos: 1 | 2 = 1, version: 4 | 5 = 5): Promise<void> {
    const client = await connectAsync(MQTT_URL, {
      clientId,
      clean: false,
      protocolVersion: version,
      reconnectPeriod: 0,
      ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    });
    await client.subscribeAsync(filter, { qos });
    await client.endAsync();
  }

  async tearDown(): Promise<void> {
    for (const connection of this.#connections) await connection.close().catch(() => undefined);
    for (const client of this.#raw) await client.endAsync(true).catch(() => undefined);
    const cleaner = await connectAsync(MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0, clientId: `${this.#idPrefix}-cleaner` });
    for (const topic of this.#retainedTopics) await cleaner.publishAsync(topic, "", { qos: 1, retain: true });
    await cleaner.endAsync();
    // A clean connect with session expiry 0 removes each session and the messages queued for it.
    for (const clientId of this.#clientIds) {
      const client = await connectAsync(MQTT_URL, { clientId, clean: true, protocolVersion: 5, reconnectPeriod: 0, properties: { sessionExpiryInterval: 0 } }).catch(() => undefined);
      await client?.endAsync(true);
    }
  }
}

/** Pulls batches of a following source until `count` messages came, acking each batch unless told not to. */
export async function takeMessages(source: Source, count: number, options: { ack?: boolean; timeoutMs?: number } = {}): Promise<Batch[]> {
  const batches: Batch[] = [];
  let seen = 0;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`only ${seen} of ${count} messages arrived`)), options.timeoutMs ?? 10_000);
  try {
    for await (const batch of source.batches(stop.signal)) {
      batches.push(batch);
      seen += batch.messages.length;
      if (options.ack ?? true) await batch.ack();
      if (seen >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  if (seen < count) throw new Error(`only ${seen} of ${count} messages arrived`);
  return batches;
}

export function messagesOf(batches: readonly Batch[]): Batch["messages"] {
  return batches.flatMap((batch) => batch.messages);
}

/** Waits up to `ms` for a batch that should not come; resolves with what did come. */
export async function quietFor(source: Source, ms: number): Promise<number> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  let seen = 0;
  try {
    for await (const batch of source.batches(stop.signal)) seen += batch.messages.length;
  } finally {
    clearTimeout(timer);
  }
  return seen;
}
