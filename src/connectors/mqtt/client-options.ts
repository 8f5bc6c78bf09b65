import type { IClientOptions } from "mqtt";
import { durationMs } from "../shared/config-fields.js";
import { defaultClientId } from "./client-id.js";
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_URL } from "./schema.js";
import type { MqttConnectionConfig } from "./schema.js";

/** MQTT 5's largest session expiry interval: the session never expires. */
const NEVER_EXPIRES = 0xffffffff;

/** Everything the session needs to know about a connection block, resolved once. */
export interface MqttSettings {
  url: string;
  /** Where the broker is, for messages and health details (no credentials). */
  broker: string;
  clientId: string;
  protocolVersion: 4 | 5;
  clean: boolean;
  /** Seconds; undefined for MQTT 3.1.1. */
  sessionExpiry: number | undefined;
  connectTimeoutMs: number;
  maxInFlight: number;
  options: IClientOptions;
}

export function mqttSettings(config: MqttConnectionConfig, connectionName: string): MqttSettings {
  const url = config.url ?? DEFAULT_URL;
  const clientId = config.client_id ?? defaultClientId(connectionName);
  const protocolVersion = config.protocol_version ?? 5;
  const clean = config.clean ?? false;
  const connectTimeoutMs = durationMs(config.connect_timeout, 30_000);
  const maxInFlight = config.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT;
  const sessionExpiry = protocolVersion === 5 ? sessionExpirySeconds(config.session_expiry) : undefined;
  const options: IClientOptions = {
    clientId,
    protocolVersion,
    clean,
    keepalive: Math.round(durationMs(config.keepalive, 60_000) / 1000),
    reconnectPeriod: Math.max(1, durationMs(config.reconnect_period, 1000)),
    connectTimeout: connectTimeoutMs,
    // A refused CONNECT (server busy, bad credentials) is tried again; bad credentials also fail the run at once (MqttSession.whenConnected).
    reconnectOnConnackError: true,
    resubscribe: true,
    // Starts once the session has installed its handlers, so no early message escapes them.
    manualConnect: true,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: sessionExpiry ?? 0, receiveMaximum: maxInFlight } } : {}),
  };
  return { url, broker: brokerLabel(url), clientId, protocolVersion, clean, sessionExpiry, connectTimeoutMs, maxInFlight, options };
}

/**
 * Options of a short-lived client that only checks the broker answers: its own random
 * identifier and a clean session, so that a health check run next to a consumer never
 * takes the consumer's session over.
 */
export function probeOptions(settings: MqttSettings, timeoutMs: number): IClientOptions {
  const { username, password, protocolVersion } = settings.options;
  return {
    clientId: `junction-probe-${Math.random().toString(36).slice(2, 12)}`,
    protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

function sessionExpirySeconds(value: MqttConnectionConfig["session_expiry"]): number {
  if (value === undefined || value === "never") return NEVER_EXPIRES;
  return Math.min(NEVER_EXPIRES - 1, Math.ceil(durationMs(value, 0) / 1000));
}

/**
 * `host:port` (and a WebSocket path) of the URL: no credentials, and not the URL as written,
 * which is a secret field and would show as "[redacted]".
 */
export function brokerLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "the MQTT broker";
  }
}
