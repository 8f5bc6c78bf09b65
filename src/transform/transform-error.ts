import { permanentError } from "../core/errors.js";
import type { JunctionError } from "../core/errors.js";

/**
 * The permanent error a transform throws when it cannot process one message. The engine
 * dead-letters the message with this text as the reason, so it starts with the step name.
 */
export function transformFailed(name: string, detail: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}): JunctionError {
  return permanentError(`${name}: ${detail}`, {
    code: `transform.${name}_failed`,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
}
