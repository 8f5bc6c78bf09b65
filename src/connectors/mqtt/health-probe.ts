import { connectAsync } from "mqtt";
import { errorMessage } from "../../core/errors.js";
import type { HealthResult } from "../types.js";
import { abortable } from "../../core/abort.js";
import { probeOptions } from "./client-options.js";
import type { MqttSettings } from "./client-options.js";

const PROBE_TIMEOUT_MS = 10_000;

/** Connects with a throw-away client (never the session's client id) and disconnects at once. */
export async function probeBroker(settings: MqttSettings, signal: AbortSignal): Promise<HealthResult> {
  const started = performance.now();
  const connecting = connectAsync(settings.url, probeOptions(settings, Math.min(settings.connectTimeoutMs, PROBE_TIMEOUT_MS)), false);
  try {
    const client = await abortable(connecting, signal);
    const latencyMs = Math.round(performance.now() - started);
    await client.endAsync(true);
    return { status: "healthy", latencyMs, detail: `${settings.broker} accepts connections (MQTT ${settings.protocolVersion === 5 ? "5" : "3.1.1"})` };
  } catch (error) {
    void connecting.then((client) => client.endAsync(true)).catch(() => undefined);
    return { status: "unhealthy", latencyMs: Math.round(performance.now() - started), detail: `cannot connect to ${settings.broker}: ${errorMessage(error)}` };
  }
}
