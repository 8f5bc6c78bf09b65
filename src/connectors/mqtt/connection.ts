import type { Connection, HealthResult, RuntimeContext, Sink, SinkContext, Source, SourceContext } from "../types.js";
import type { MqttSettings } from "./client-options.js";
import { sinkProtocolError, sourceSessionError } from "./config-checks.js";
import { probeBroker } from "./health-probe.js";
import { MqttSession } from "./mqtt-session.js";
import type { MqttSinkOptions, MqttSourceOptions } from "./schema.js";
import { MqttSink } from "./sink.js";
import { MqttSource } from "./source.js";

/**
 * An mqtt connection. The client (and with it the broker-side session) starts with the
 * first source or sink, not at connect: a `junction check` next to a running consumer must
 * not take its session over, so health then uses a throw-away client.
 */
export class MqttConnection implements Connection<MqttSourceOptions, MqttSinkOptions> {
  readonly #settings: MqttSettings;
  readonly #ctx: RuntimeContext;
  #session: MqttSession | undefined;

  constructor(settings: MqttSettings, ctx: RuntimeContext) {
    this.#settings = settings;
    this.#ctx = ctx;
  }

  async health(signal: AbortSignal): Promise<HealthResult> {
    return this.#session === undefined ? probeBroker(this.#settings, signal) : this.#session.health();
  }

  source(options: MqttSourceOptions, ctx: SourceContext): Source {
    const error = sourceSessionError(this.#settings, options, this.#ctx.name);
    if (error !== undefined) throw error;
    return new MqttSource(options, ctx, { session: this.#openSession(), connectionName: this.#ctx.name, shutdown: this.#ctx.signal });
  }

  sink(options: MqttSinkOptions, ctx: SinkContext): Sink {
    const error = sinkProtocolError(this.#settings, options, this.#ctx.name);
    if (error !== undefined) throw error;
    return new MqttSink(this.#openSession(), options, ctx);
  }

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  #openSession(): MqttSession {
    this.#session ??= new MqttSession(this.#settings, this.#ctx.logger.child({ connection: this.#ctx.name }));
    return this.#session;
  }
}
