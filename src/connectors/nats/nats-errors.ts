import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { errors } from "@nats-io/transport-node";
import { JunctionError, configError, permanentError, transientError } from "../../core/errors.js";

/** JetStream API codes of limits that clear up on their own (a consumer catching up, old messages expiring). */
const TRANSIENT_API_CODES = new Set([
  10023, // insufficient resources
  10047, // insufficient storage resources available
  10077, // store failed: maximum messages or bytes exceeded (discard new)
  10008, // JetStream temporarily unavailable (no leader)
]);

/**
 * The error of a NATS operation as a JunctionError: a lost or closed connection, a timeout
 * or JetStream not answering (restarting, no leader) is transient; an authorization
 * failure is auth; what the JetStream API refuses for good is permanent, with its reason.
 */
export function natsError(error: unknown, doing: string): JunctionError {
  if (error instanceof JunctionError) return error;
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.AuthorizationError || error instanceof errors.UserAuthenticationExpiredError) {
    return new JunctionError(`${doing}: the NATS server refused the credentials (${text}); check user/password or token`, { kind: "auth", code: "nats.auth", cause: error });
  }
  if (error instanceof errors.PermissionViolationError) {
    return new JunctionError(`${doing}: ${text}; the NATS user lacks permission for it`, { kind: "auth", code: "nats.permission", cause: error });
  }
  if (error instanceof JetStreamApiError) {
    const code = error.code;
    if (TRANSIENT_API_CODES.has(code)) return transientError(`${doing}: JetStream: ${text}`, { code: `nats.${code}`, cause: error });
    return permanentError(`${doing}: JetStream refused it (${code}): ${text}`, { code: `nats.${code}`, cause: error });
  }
  if (isNoResponders(error)) {
    return transientError(`${doing}: JetStream did not answer (no responders: the server is starting, JetStream is disabled, or no stream stores the subject)`, {
      code: "nats.no_responders",
      cause: error,
    });
  }
  if (isTransientClientError(error)) return transientError(`${doing}: ${text}`, { code: "nats.connection", cause: error });
  if (error instanceof errors.InvalidSubjectError || error instanceof errors.InvalidArgumentError) {
    return permanentError(`${doing}: ${text}`, { code: "nats.invalid", cause: error });
  }
  if (/MAX_PAYLOAD_EXCEEDED/i.test(text)) {
    return permanentError(`${doing}: the message is larger than the server's max_payload`, { code: "nats.max_payload", cause: error });
  }
  return transientError(`${doing}: ${text}`, { code: "nats.error", cause: error });
}

/** Errors of the connection itself: worth retrying once the client has reconnected. */
export function isTransientClientError(error: unknown): boolean {
  return (
    error instanceof errors.TimeoutError ||
    error instanceof errors.ClosedConnectionError ||
    error instanceof errors.ConnectionError ||
    error instanceof errors.DrainingConnectionError ||
    error instanceof errors.RequestError ||
    error instanceof errors.NoRespondersError ||
    (error as { name?: unknown } | null)?.name === "TimeoutError"
  );
}

/** The error of a declaration (stream, consumer) that the server refuses: the config must change. */
export function declarationError(error: unknown, doing: string, hint: string): JunctionError {
  const classified = natsError(error, doing);
  if (classified.kind !== "permanent") return classified;
  return configError(`${classified.message}${hint === "" ? "" : ` (${hint})`}`, { code: classified.code, cause: error });
}

/** A JetStream request nobody answered: nats.js reports it as "jetstream is not enabled". */
export function isNoResponders(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "JetStreamNotEnabled" || error instanceof errors.NoRespondersError || (error instanceof errors.RequestError && error.isNoResponders());
}

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

export function isConsumerNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound;
}
