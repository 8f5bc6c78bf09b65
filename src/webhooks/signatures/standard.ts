import { createHmac, verify as verifySignature } from "node:crypto";
import { signatureMatches } from "./constant-time.js";
import { readHeader } from "./header-reader.js";
import { isFailure, rawBody } from "./raw-body.js";
import { secretList } from "./secret-list.js";
import { parseStandardVerificationKey } from "./standard-keys.js";
import type { StandardVerificationKey } from "./standard-keys.js";
import { checkTimestampWindow, parseUnixSeconds, requireTolerance } from "./timestamp-window.js";
import { rejected, verified } from "./verify-result.js";
import type { ClockOption, HeaderSource, SecretList, VerifyResult, WebhookVerifier } from "./types.js";

export const STANDARD_WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

export interface StandardVerifierOptions {
  /** `whsec_…` HMAC secrets (for `v1`) and/or `whpk_…` public keys (for `v1a`); several during a rotation. */
  secrets: SecretList;
  /** Accepted clock difference either way, in seconds (default 300). */
  toleranceSeconds?: number;
}

// The spec asks that ids never contain "." so that `${id}.${timestamp}.${body}` cannot be re-split differently.
const MESSAGE_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ED25519_SIGNATURE_BYTES = 64;

interface SignatureEntry {
  version: string;
  signature: string;
}

function parseSignatureHeader(value: string): SignatureEntry[] {
  const entries: SignatureEntry[] = [];
  for (const part of value.split(/[ \t]+/)) {
    const comma = part.indexOf(",");
    if (comma <= 0 || comma === part.length - 1) continue;
    entries.push({ version: part.slice(0, comma), signature: part.slice(comma + 1) });
  }
  return entries;
}

function matchesKey(key: StandardVerificationKey, signedContent: Buffer, entries: readonly SignatureEntry[]): boolean {
  if (key.scheme === "v1") {
    const expected = createHmac("sha256", key.hmacKey).update(signedContent).digest("base64");
    return entries.some((entry) => entry.version === "v1" && signatureMatches(expected, entry.signature));
  }
  return entries.some((entry) => {
    if (entry.version !== "v1a" || !BASE64.test(entry.signature)) return false;
    const signature = Buffer.from(entry.signature, "base64");
    return signature.length === ED25519_SIGNATURE_BYTES && verifySignature(null, signedContent, key.publicKey, signature);
  });
}

/** Verifies Standard Webhooks requests (`webhook-id`, `webhook-timestamp`, `webhook-signature`), `v1` HMAC and `v1a` ed25519. */
export function standardWebhookVerifier(options: StandardVerifierOptions): WebhookVerifier {
  const what = "standard webhook verifier";
  const keys = secretList(options.secrets, what).map((secret, index) => parseStandardVerificationKey(secret, what, index));
  const tolerance = requireTolerance(options.toleranceSeconds, what);

  return {
    type: "standard",
    verify(body: Buffer, headers: HeaderSource, now: number = Date.now()): VerifyResult {
      const bytes = rawBody(body);
      if (isFailure(bytes)) return bytes;
      const values: Record<keyof typeof STANDARD_WEBHOOK_HEADERS, string> = { id: "", timestamp: "", signature: "" };
      for (const field of ["id", "timestamp", "signature"] as const) {
        const name = STANDARD_WEBHOOK_HEADERS[field];
        const header = readHeader(headers, name);
        if (header.kind === "missing") return rejected("missing_header", `the ${name} header is missing`);
        if (header.kind === "duplicate") return rejected("malformed", `the ${name} header was sent more than once`);
        values[field] = header.value;
      }
      if (!MESSAGE_ID.test(values.id)) return rejected("malformed", "webhook-id must be 1-256 printable characters without '.' or spaces");
      const timestamp = parseUnixSeconds(values.timestamp, "webhook-timestamp");
      if (isFailure(timestamp)) return timestamp;
      const outside = checkTimestampWindow(timestamp, now, tolerance);
      if (outside) return outside;
      const entries = parseSignatureHeader(values.signature);
      if (entries.length === 0) return rejected("malformed", "webhook-signature holds no `version,signature` entry");

      const signedContent = Buffer.concat([Buffer.from(`${values.id}.${values.timestamp}.`, "utf8"), bytes]);
      const keyIndex = keys.findIndex((key) => matchesKey(key, signedContent, entries));
      if (keyIndex < 0) return rejected("bad_signature", "no signature in webhook-signature matches a configured secret or public key");
      return verified(keyIndex, { id: values.id, timestamp });
    },
  };
}

/** One-call form of {@link standardWebhookVerifier}; throws only for invalid secrets (configuration), never for request input. */
export function verifyStandardWebhook(body: Buffer, headers: HeaderSource, options: StandardVerifierOptions & ClockOption): VerifyResult {
  return standardWebhookVerifier(options).verify(body, headers, options.now);
}
