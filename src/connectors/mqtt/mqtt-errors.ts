import { ErrorWithReasonCode } from "mqtt";
import { JunctionError, errorMessage, isAbortError } from "../../core/errors.js";
import type { ErrorKind } from "../../core/errors.js";

/** CONNACK codes of MQTT 3.1.1 (4, 5) and reason codes of MQTT 5 that mean the credentials are wrong or not allowed. */
const AUTH_CODES = new Set([4, 5, 134, 135, 138, 140]);
/** Reason codes that mean the request itself is wrong: repeating it cannot help. */
const PERMANENT_CODES = new Set([1, 2, 129, 130, 132, 133, 143, 144, 146, 148, 149, 153, 154, 155, 158, 161, 162]);

/** The MQTT reason code an mqtt.js error carries (CONNACK, PUBACK, SUBACK), if any. */
export function reasonCode(error: unknown): number | undefined {
  if (error instanceof ErrorWithReasonCode) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * The kind of an MQTT failure: refused credentials are `auth`, malformed requests
 * (invalid topic, packet too large, QoS not supported) `permanent`, everything else
 * (connection loss, network errors, server busy, quota exceeded, timeouts) `transient`.
 */
export function mqttErrorKind(error: unknown): ErrorKind {
  if (error instanceof JunctionError) return error.kind;
  if (isAbortError(error)) return "transient";
  const code = reasonCode(error);
  if (code !== undefined) {
    if (AUTH_CODES.has(code)) return "auth";
    return PERMANENT_CODES.has(code) ? "permanent" : "transient";
  }
  // mqtt.js reports a lost or closing connection with plain errors ("Connection closed").
  return "transient";
}

/** A JunctionError with the right kind and a message that names the broker and what failed. */
export function mqttError(what: string, broker: string, error: unknown): JunctionError {
  if (error instanceof JunctionError) return error;
  const kind = mqttErrorKind(error);
  const hint = kind === "auth" ? " (check username and password, and what the broker allows this client)" : "";
  const code = reasonCode(error);
  return new JunctionError(`${what} at ${broker} failed: ${errorMessage(error)}${hint}`, {
    kind,
    code: `mqtt.${kind}`,
    ...(code === undefined ? {} : { context: { reason_code: code } }),
    cause: error,
  });
}
