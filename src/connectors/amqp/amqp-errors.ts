import { JunctionError, permanentError, transientError } from "../../core/errors.js";

/** AMQP reply codes that no retry can fix: access refused, not found, precondition failed, not allowed. */
const PERMANENT_REPLY_CODES = new Set([403, 404, 406, 405, 530, 540]);

/**
 * The error of an AMQP operation as a JunctionError: a lost connection, a closed channel or
 * a broker shutting down (320) is transient; a refused declaration, a missing exchange or
 * queue, or a precondition failure (a queue declared with other arguments) is permanent,
 * with the broker's own explanation.
 */
export function amqpError(error: unknown, doing: string): JunctionError {
  if (error instanceof JunctionError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = brokerMessage(error);
  if (typeof code === "number" && PERMANENT_REPLY_CODES.has(code)) {
    return permanentError(`${doing}: RabbitMQ refused it (${code}): ${message}${hint(code)}`, { code: `amqp.${code}`, cause: error });
  }
  return transientError(`${doing}: ${message}`, { code: typeof code === "string" ? code : "amqp.connection", cause: error });
}

function brokerMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // amqplib: 'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg …"'
  const quoted = /with message "([^"]+)"/.exec(text);
  return quoted ? (quoted[1] as string) : text;
}

function hint(code: number): string {
  if (code === 406) return " (a queue or exchange of that name exists with other settings: delete it, or make the config match)";
  if (code === 404) return " (declare it under the connection's exchanges/queues, or fix the name)";
  if (code === 403) return " (the user lacks permission on this vhost or resource)";
  return "";
}

/** The problem text of a connection-level failure, without the URL (it may hold a password). */
export function connectionProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !text.includes(code) ? `${code}: ${text}` : text;
}
