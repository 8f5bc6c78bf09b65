import { JunctionError, permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { sizeBytes } from "../shared/config-fields.js";
import type { HttpClient } from "./http-client.js";
import { responseError, statusKind } from "./http-errors.js";
import { RequestBuilder } from "./request-builder.js";
import { ResponseMapping } from "./response-mapping.js";
import type { HttpSinkOptions } from "./schema.js";

/** Bytes of an error response read to quote in the error. */
const ERROR_BODY_BYTES = 4096;

/** Sends a message's request; resolves to undefined when it succeeded (the response mapped into the message), else to the error. */
export type MessageRequester = (message: Message, signal: AbortSignal) => Promise<Error | undefined>;

/**
 * One request per message from the target options (method, path, query, headers and body
 * templates, the Idempotency-Key), its status classified: 2xx succeeds and, with `response`,
 * is put into the message; 408/425/429/5xx and network errors are transient (with
 * Retry-After), 401 auth, other 4xx permanent. Never throws.
 */
export function messageRequester(client: HttpClient, options: HttpSinkOptions, integration: string): MessageRequester {
  const builder = new RequestBuilder(options, integration);
  const mapping = options.response === undefined ? undefined : new ResponseMapping(options.response);
  const successBody = mapping?.wantsBody === true ? sizeBytes(options.response?.max_body, 1024 * 1024) : 0;

  return async (message, signal) => {
    let built;
    try {
      built = await builder.build(message);
    } catch (error) {
      return permanentError(`building the request: ${client.redactor.redact((error as Error).message)}`, { code: "http.request_template", cause: error });
    }
    try {
      // Errors need only the start of the body; successes the whole of it when it is mapped.
      const response = await client.send({ ...built, maxBody: Math.max(successBody, ERROR_BODY_BYTES) }, signal);
      if (statusKind(response.status) === undefined) {
        mapping?.apply(message, response);
        return undefined;
      }
      const bodyText = response.body.subarray(0, ERROR_BODY_BYTES).toString("utf8");
      const retryAfter = response.headers["retry-after"];
      return responseError({ status: response.status, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, bodyText, request: response.request }, client.redactor);
    } catch (error) {
      if (error instanceof JunctionError) return error;
      return permanentError(client.redactor.redact((error as Error).message), { cause: error });
    }
  };
}
