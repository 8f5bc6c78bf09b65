import { randomBytes } from "node:crypto";
import amqplib from "amqplib";
import type { Channel, ChannelModel } from "amqplib";
import { amqpConnector } from "../../../src/connectors/amqp/index.js";
import type { AmqpConnectionConfig } from "../../../src/connectors/amqp/schema.js";
import type { Connection, SourceContext } from "../../../src/connectors/types.js";
import { createLogger } from "../../../src/observability/logger.js";
import type { StateStore } from "../../../src/state/types.js";

export const RABBIT_URL = process.env.JUNCTION_TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const silent = createLogger({ level: "silent" });

/** Unique names for one test, removed again by `RawRabbit.cleanup`. */
export function uniqueName(prefix: string): string {
  return `jt.${prefix}.${process.pid}.${randomBytes(3).toString("hex")}`;
}

export async function connectAmqp(config: Partial<AmqpConnectionConfig> = {}): Promise<Connection> {
  const signal = new AbortController().signal;
  return amqpConnector.connect({ url: RABBIT_URL, ...config } as AmqpConnectionConfig, { name: "rabbit", logger: silent, state: undefined as unknown as StateStore, baseDir: ".", signal });
}

export function sourceContext(overrides: Partial<SourceContext> = {}): SourceContext {
  return {
    integration: "amqp-test",
    logger: silent,
    checkpoints: { get: async () => undefined, set: async () => undefined },
    follow: false,
    batchSize: 100,
    ...overrides,
  };
}

/** A plain amqplib connection for arranging and inspecting what the connector does. */
export class RawRabbit {
  readonly queues = new Set<string>();
  readonly exchanges = new Set<string>();
  private constructor(
    readonly model: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(): Promise<RawRabbit> {
    const model = await amqplib.connect(RABBIT_URL);
    const channel = await model.createConfirmChannel();
    return new RawRabbit(model, channel);
  }

  async queue(name: string, args: Record<string, unknown> = {}): Promise<string> {
    this.queues.add(name);
    await this.channel.assertQueue(name, { durable: true, arguments: args });
    return name;
  }

  track(...names: string[]): void {
    for (const name of names) this.queues.add(name);
  }

  trackExchange(...names: string[]): void {
    for (const name of names) this.exchanges.add(name);
  }

  async publish(queue: string, body: unknown, options: amqplib.Options.Publish = {}): Promise<void> {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    this.channel.sendToQueue(queue, content, { persistent: true, ...options });
    await this.confirmed();
  }

  /** Waits for the broker's confirms of everything published on `channel` so far. */
  async confirmed(): Promise<void> {
    await (this.channel as amqplib.ConfirmChannel).waitForConfirms();
  }

  async count(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Every message now in `queue`, acknowledged (removed). */
  async drain(queue: string): Promise<amqplib.GetMessage[]> {
    const out: amqplib.GetMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (message === false) return out;
      out.push(message);
    }
  }

  async cleanup(): Promise<void> {
    const channel = await this.model.createChannel();
    channel.on("error", () => undefined);
    for (const queue of this.queues) await channel.deleteQueue(queue).catch(() => undefined);
    for (const exchange of this.exchanges) await channel.deleteExchange(exchange).catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}
