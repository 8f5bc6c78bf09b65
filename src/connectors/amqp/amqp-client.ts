import { connect } from "amqplib";
import type { Channel, ChannelModel, ConfirmChannel } from "amqplib";
import type { Logger } from "pino";
import { transientError } from "../../core/errors.js";
import { durationMs } from "../shared/config-fields.js";
import { amqpError, connectionProblem } from "./amqp-errors.js";
import { ConfirmPublisher } from "./confirm-publisher.js";
import type { AmqpConnectionConfig } from "./schema.js";
import { declareTopology } from "./topology.js";

/** Publishes awaiting a confirm on the shared channel used for requeues and dead letters. */
const SETTLEMENT_IN_FLIGHT = 1000;

/**
 * One RabbitMQ connection, opened on demand and opened again after it is lost: whoever asks
 * for a channel after a broker restart gets a fresh connection with the topology declared
 * again. Callers see a lost connection as transient errors, and the engine's retries and run
 * restarts (with backoff) are what bring them back here.
 */
export class AmqpClient {
  readonly #config: AmqpConnectionConfig;
  readonly #logger: Logger;
  #model: ChannelModel | undefined;
  #connecting: Promise<ChannelModel> | undefined;
  #settlement: ConfirmPublisher | undefined;
  #closed = false;
  #generation = 0;

  constructor(config: AmqpConnectionConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** Increases with every new connection: deliveries of an older generation can no longer be acknowledged. */
  get generation(): number {
    return this.#generation;
  }

  get connected(): boolean {
    return this.#model !== undefined;
  }

  async channel(): Promise<Channel> {
    const model = await this.connection();
    try {
      return await model.createChannel();
    } catch (error) {
      throw amqpError(error, "opening a RabbitMQ channel");
    }
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    const model = await this.connection();
    try {
      return await model.createConfirmChannel();
    } catch (error) {
      throw amqpError(error, "opening a RabbitMQ confirm channel");
    }
  }

  /** The confirm publisher shared by requeues and dead letters of every consumer on this connection. */
  async settlementPublisher(): Promise<ConfirmPublisher> {
    if (this.#settlement === undefined || this.#settlement.closed) {
      this.#settlement = new ConfirmPublisher(await this.confirmChannel(), SETTLEMENT_IN_FLIGHT);
    }
    return this.#settlement;
  }

  async connection(): Promise<ChannelModel> {
    if (this.#closed) throw transientError("the RabbitMQ connection is closed (shutting down)");
    if (this.#model !== undefined) return this.#model;
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const model = this.#model ?? (await this.#connecting?.catch(() => undefined));
    this.#model = undefined;
    if (model === undefined) return;
    try {
      await model.close();
    } catch {
      // the broker already dropped it
    }
  }

  async #open(): Promise<ChannelModel> {
    let model: ChannelModel;
    try {
      model = await connect(this.#url(), { timeout: durationMs(this.#config.connect_timeout, 10_000) });
    } catch (error) {
      throw transientError(`could not connect to RabbitMQ: ${connectionProblem(error)}`, { code: "amqp.connect", cause: error });
    }
    model.on("error", (error: Error) => this.#logger.warn({ error: connectionProblem(error) }, `RabbitMQ connection error: ${connectionProblem(error)}`));
    model.on("close", (error?: Error) => {
      if (this.#model === model) this.#model = undefined;
      if (!this.#closed) this.#logger.warn({ error: error ? connectionProblem(error) : undefined }, "RabbitMQ connection lost; it is opened again on next use");
    });
    model.on("blocked", (reason: string) => this.#logger.warn({ reason }, `RabbitMQ blocked publishing on this connection: ${reason}`));
    model.on("unblocked", () => this.#logger.info("RabbitMQ unblocked publishing"));
    try {
      const channel = await model.createChannel();
      channel.on("error", () => undefined);
      await declareTopology(channel, this.#config);
      await channel.close();
    } catch (error) {
      await model.close().catch(() => undefined);
      throw amqpError(error, "declaring the RabbitMQ topology");
    }
    if (this.#closed) {
      await model.close().catch(() => undefined);
      throw transientError("the RabbitMQ connection is closed (shutting down)");
    }
    this.#generation++;
    this.#model = model;
    this.#logger.info({ generation: this.#generation }, "connected to RabbitMQ");
    return model;
  }

  #url(): string {
    const url = new URL(this.#config.url);
    if (!url.searchParams.has("heartbeat")) url.searchParams.set("heartbeat", String(Math.round(durationMs(this.#config.heartbeat, 30_000) / 1000)));
    return url.toString();
  }
}
