import type { Logger } from "pino";
import type { RetryConfig } from "../../config/model.js";
import { errorMessage } from "../../core/errors.js";
import { withPayload } from "../../core/message.js";
import type { Caller } from "../types.js";
import type { HttpClient } from "./http-client.js";
import { messageRequester } from "./message-request.js";
import { httpRetryPolicy } from "./retry-policy.js";
import type { HttpSinkOptions } from "./schema.js";

/**
 * The http connection in a `call` step: the target's request per message, retried on
 * transient failures by the connection's `resilience.retry` with the same Idempotency-Key,
 * and the message returned with the answer at `response.into` for the steps after it.
 */
export function createHttpCaller(client: HttpClient, options: HttpSinkOptions, integration: string, connectionRetry: RetryConfig | undefined, logger: Logger): Caller {
  const send = messageRequester(client, options, integration);
  const retry = httpRetryPolicy(undefined, connectionRetry);
  retry.onRetry.on((event) => {
    logger.warn({ attempt: event.attempt, delay_ms: Math.round(event.delayMs), error: errorMessage(event.error) }, `call failed; trying again in ${Math.round(event.delayMs)}ms`);
  });
  return {
    async call(message, signal) {
      // A copy: the original stays as it came (it is what a dead letter keeps).
      const copy = withPayload(message, message.payload);
      await retry.execute(async ({ signal: attempt }) => {
        const error = await send(copy, attempt);
        if (error !== undefined) throw error;
      }, signal);
      return copy;
    },
  };
}
