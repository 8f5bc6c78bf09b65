import { createHmac, randomUUID, sign as signWithKey } from "node:crypto";
import { configError } from "../../core/errors.js";
import { secretList } from "./secret-list.js";
import { parseStandardSigningKey } from "./standard-keys.js";
import type { SecretList } from "./types.js";

export interface StandardSignInput {
  body: Buffer | string;
  /** Message id, stable across retries of one event (default: a new `msg_…` id). */
  id?: string;
  /** Time of this attempt in milliseconds (default `Date.now()`). */
  now?: number;
  /** `whsec_…` secrets sign `v1` (HMAC-SHA256), `whsk_…` secret keys sign `v1a` (ed25519); several keys give several signatures. */
  secrets: SecretList;
}

// A type alias (not an interface) so it is assignable to plain header records and fetch `HeadersInit`.
export type StandardWebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** Signs an outbound webhook the Standard Webhooks way and returns the three headers to send with the body. */
export function signStandardWebhook(input: StandardSignInput): StandardWebhookHeaders {
  const what = "standard webhook signer";
  const keys = secretList(input.secrets, what).map((secret, index) => parseStandardSigningKey(secret, what, index));
  const id = input.id ?? `msg_${randomUUID().replaceAll("-", "")}`;
  if (id.includes(".") || /\s/.test(id) || id === "") throw configError(`${what}: the message id must be non-empty, without '.' or spaces`);
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), body]);
  const signatures = keys.map((key) =>
    key.scheme === "v1"
      ? `v1,${createHmac("sha256", key.hmacKey).update(signedContent).digest("base64")}`
      : `v1a,${signWithKey(null, signedContent, key.privateKey).toString("base64")}`,
  );
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}
