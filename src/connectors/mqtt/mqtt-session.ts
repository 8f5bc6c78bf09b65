import { connect } from "mqtt";
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { abortError } from "../../core/abort.js";
import { configError, errorMessage, transientError } from "../../core/errors.js";
import type { HealthResult } from "../types.js";
import type { MqttSettings } from "./client-options.js";
import { DEFERRED, installDeferredAcks, sendAck } from "./deferred-acks.js";
import { Inbox } from "./inbox.js";
import type { ReceivedPublish } from "./inbox.js";
import { mqttError, mqttErrorKind } from "./mqtt-errors.js";
import { PublishSlots } from "./publish-slots.js";

const CLOSE_GRACE_MS = 5000;
/** Most publishes awaiting their acknowledgement when the broker does not say (MQTT 3.1.1). */
const MAX_PUBLISHES_IN_FLIGHT = 1000;

/**
 * One MQTT client and its broker-side session, shared by the source and the sinks of a
 * connection (a client identifier can only be connected once). It keeps the messages that
 * arrived in an inbox until the source takes them, sends their acknowledgements when the
 * source says so, and numbers the network connections: after a reconnect the broker sends
 * every unacknowledged message again, so the old ones are dropped and never acknowledged.
 */
export class MqttSession {
  readonly settings: MqttSettings;
  readonly client: MqttClient;
  readonly inbox: Inbox;
  /** Shared by every write on this client: the broker's Receive Maximum counts them all. */
  readonly publishSlots: PublishSlots;
  readonly #log: Logger;
  #connection = 0;
  #online = false;
  #lastError: unknown;
  #owner: string | undefined;
  readonly #lostListeners = new Set<() => void>();
  readonly #connectListeners = new Set<() => void>();

  constructor(settings: MqttSettings, logger: Logger) {
    this.settings = settings;
    this.#log = logger;
    // Above the window (brokers may overshoot it by one): with MQTT 5 reading never stops.
    this.inbox = new Inbox(2 * settings.maxInFlight);
    this.client = connect(settings.url, settings.options);
    this.publishSlots = new PublishSlots(() => Math.min(this.client.serverProperties?.receiveMaximum ?? MAX_PUBLISHES_IN_FLIGHT, MAX_PUBLISHES_IN_FLIGHT));
    installDeferredAcks(this.client, (topic, payload, packet, resume) => {
      this.inbox.push({ topic, payload, packet, connection: this.#connection }, resume);
    });
    // Counted at the CONNACK itself, in packet order: mqtt.js emits "connect" only after
    // resending its stored publishes, and messages of the resumed session may come first.
    this.client.on("packetreceive", (packet) => {
      if (packet.cmd === "connack" && (packet.reasonCode ?? packet.returnCode ?? 0) === 0) this.#connected(packet.sessionPresent);
    });
    this.client.on("close", () => this.#closed());
    this.client.on("error", (error) => {
      if (error === DEFERRED) return;
      this.#lastError = error;
      this.#log.debug({ broker: settings.broker, err: error }, "MQTT client error");
      for (const listener of [...this.#connectListeners]) listener();
    });
    this.client.connect();
  }

  get connected(): boolean {
    return this.#online;
  }

  /** Number of the current network connection (1 for the first). */
  get connection(): number {
    return this.#connection;
  }

  /** Resolves once connected; rejects with an auth error when the broker refuses the credentials, a transient one after connect_timeout. */
  async whenConnected(signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + this.settings.connectTimeoutMs;
    while (!this.#online) {
      const refused = this.#refusal();
      if (refused !== undefined) throw refused;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const reason = this.#lastError === undefined ? "no answer" : errorMessage(this.#lastError);
        throw transientError(`not connected to the MQTT broker at ${this.settings.broker} after ${Math.round(this.settings.connectTimeoutMs / 1000)}s (${reason}); retrying later`, {
          code: "mqtt.not_connected",
        });
      }
      await this.#nextConnectEvent(signal, remaining);
    }
  }

  /**
   * Sends the acknowledgement of a message, when it came on the current connection (true).
   * One from an earlier connection (false) is left alone: the broker sends it again, and
   * its packet identifier may already name another message.
   */
  acknowledge(received: ReceivedPublish): boolean {
    if (received.packet.qos === 0) return true;
    if (!this.#online || received.connection !== this.#connection) return false;
    sendAck(this.client, received.packet);
    this.inbox.touch();
    return true;
  }

  /** Calls `listener` when a connection that was up drops; returns the unsubscribe function. */
  onLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Marks the session as read by one source; a second one at the same time is a configuration error. */
  attach(owner: string, connectionName: string): void {
    if (this.#owner !== undefined && this.#owner !== owner) {
      throw configError(
        `connection "${connectionName}" already feeds integration "${this.#owner}": an MQTT client holds one session, so give integration "${owner}" its own mqtt connection (with its own client_id)`,
        { code: "config.mqtt_one_source" },
      );
    }
    this.#owner = owner;
  }

  detach(owner: string): void {
    if (this.#owner === owner) this.#owner = undefined;
  }

  /**
   * Reconnects, so that the broker sends the messages that were handed out and not
   * acknowledged again (MQTT redelivers only on a new connection).
   */
  recycle(): void {
    if (!this.#online) return;
    this.#log.debug({ broker: this.settings.broker }, "reconnecting to have unacknowledged MQTT messages delivered again");
    // Offline from now on: nothing more is acknowledged on this connection, and whenConnected waits for the next one.
    this.#online = false;
    this.client.reconnect();
  }

  health(): HealthResult {
    const { broker, clientId } = this.settings;
    if (this.#online) return { status: "healthy", latencyMs: 0, detail: `connected to ${broker} as ${clientId}` };
    const reason = this.#lastError === undefined ? "connecting" : errorMessage(this.#lastError);
    return { status: "unhealthy", latencyMs: 0, detail: `not connected to ${broker} (${reason})` };
  }

  /** Disconnects cleanly (unacknowledged messages stay with the broker's session); forced after a grace period. */
  async close(): Promise<void> {
    // A disconnect asked for is not a lost connection: no warning, no transient error.
    this.#online = false;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), CLOSE_GRACE_MS);
    });
    try {
      const outcome = await Promise.race([this.client.endAsync(), grace]);
      if (outcome === "late") await this.client.endAsync(true);
    } finally {
      clearTimeout(timer);
    }
  }

  #connected(sessionPresent: boolean): void {
    this.#connection++;
    this.#online = true;
    this.#lastError = undefined;
    this.#log.debug({ broker: this.settings.broker, client_id: this.settings.clientId, session_present: sessionPresent }, "connected to the MQTT broker");
    for (const listener of [...this.#connectListeners]) listener();
  }

  #closed(): void {
    const wasOnline = this.#online;
    this.#online = false;
    // Sent again by the broker on the next connection, with the same or new packet identifiers.
    this.inbox.drop((received) => received.packet.qos > 0);
    if (!wasOnline) return;
    this.#log.warn({ broker: this.settings.broker, err: this.#lastError }, "lost the connection to the MQTT broker; reconnecting");
    for (const listener of [...this.#lostListeners]) listener();
  }

  /** The error of a refused CONNECT that retrying cannot fix (bad credentials, not authorized). */
  #refusal(): Error | undefined {
    const error = this.#lastError;
    if (error === undefined || mqttErrorKind(error) !== "auth") return undefined;
    return mqttError("connecting", this.settings.broker, error);
  }

  #nextConnectEvent(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#connectListeners.delete(onEvent);
        signal.removeEventListener("abort", onAbort);
      };
      const onEvent = (): void => {
        finish();
        resolve();
      };
      const onAbort = (): void => {
        finish();
        reject(abortError(signal));
      };
      const timer = setTimeout(onEvent, timeoutMs);
      this.#connectListeners.add(onEvent);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
