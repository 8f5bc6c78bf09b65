import { Type } from "@sinclair/typebox";
import { configError } from "../core/errors.js";
import type { Caller } from "../connectors/types.js";
import type { TransformSpec } from "./types.js";

const schema = Type.Object(
  {
    connection: Type.String({ minLength: 1, description: "A connection whose connector can be called (http)." }),
  },
  {
    additionalProperties: true,
    description:
      "A call per message through a connection, with that connector's target options (http: method, path, query, headers, body, idempotency_key, response). " +
      "The answer goes where `response.into` says (e.g. metadata.charge), for the steps after it; the call is retried on transient failures by the connection's resilience.retry.",
  },
);

const neverAborted = new AbortController().signal;

/**
 * `- call: { connection: payments, method: POST, path: /charges, body: …, response: { into: metadata.charge } }`:
 * the message goes on with the API's answer in it. Calls of several messages run at once
 * (up to the integration's concurrency). A call is retried by the connector (the connection's
 * resilience.retry); one that still fails dead-letters the message at stage "transform" (a
 * broker source may take a transient failure back instead), and `junction dlq replay` calls
 * again with the same Idempotency-Key.
 */
export const callTransform: TransformSpec<typeof schema> = {
  name: "call",
  summary: "Calls an API for each message through an http connection and puts the answer into the message for the steps after it (Idempotency-Key, retries, Retry-After).",
  schema,
  example: `- call:
    connection: payments
    method: POST
    path: /charges
    body: "{ 'amount': amount_cents, 'currency': 'eur', 'reference': order_id }"
    response: { into: metadata.charge }   # later steps read $message.metadata.charge.body.id`,
  build(value, ctx) {
    const { connection, ...options } = value;
    const open = ctx.caller ?? (() => Promise.reject(configError("call steps run inside junction run: they need the connection", { code: "transform.call_outside_runtime" })));
    let caller: Promise<Caller> | undefined;
    return {
      name: "call",
      concurrent: true,
      async apply(message, signal) {
        // A connection that failed to open is tried again by the next message.
        caller ??= open(connection, options).catch((error: unknown) => {
          caller = undefined;
          throw error;
        });
        return (await caller).call(message, signal ?? neverAborted);
      },
    };
  },
};
