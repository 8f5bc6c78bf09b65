import { createHmac } from "node:crypto";
import { signatureMatches } from "./constant-time.js";
import { readHeader } from "./header-reader.js";
import { isFailure, rawBody } from "./raw-body.js";
import { secretList } from "./secret-list.js";
import { checkTimestampWindow, parseUnixSeconds, requireTolerance } from "./timestamp-window.js";
import { rejected, verified } from "./verify-result.js";
import type { ClockOption, HeaderSource, SecretList, VerifyResult, WebhookVerifier } from "./types.js";

export const STRIPE_SIGNATURE_HEADER = "stripe-signature";

export interface StripeVerifierOptions {
  /** Endpoint signing secrets (`whsec_…`, used as-is); several during a rotation. */
  secrets: SecretList;
  /** Maximum age (and future skew) of `t`, in seconds (default 300, as Stripe's libraries). */
  toleranceSeconds?: number;
}

function stripeSignature(secret: string, timestamp: string, body: Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`, "utf8").update(body).digest("hex");
}

/** Verifies `Stripe-Signature: t=…,v1=…[,v1=…]` over `${t}.${body}` (HMAC-SHA256, hex). */
export function stripeWebhookVerifier(options: StripeVerifierOptions): WebhookVerifier {
  const what = "stripe webhook verifier";
  const secrets = secretList(options.secrets, what);
  const tolerance = requireTolerance(options.toleranceSeconds, what);

  return {
    type: "stripe",
    verify(body: Buffer, headers: HeaderSource, now: number = Date.now()): VerifyResult {
      const bytes = rawBody(body);
      if (isFailure(bytes)) return bytes;
      const header = readHeader(headers, STRIPE_SIGNATURE_HEADER);
      if (header.kind === "missing") return rejected("missing_header", "the Stripe-Signature header is missing");
      if (header.kind === "duplicate") return rejected("malformed", "the Stripe-Signature header was sent more than once");

      const timestamps: string[] = [];
      const signatures: string[] = [];
      for (const item of header.value.split(",")) {
        const equals = item.indexOf("=");
        if (equals <= 0) continue;
        const key = item.slice(0, equals).trim();
        const value = item.slice(equals + 1).trim();
        if (key === "t") timestamps.push(value);
        else if (key === "v1" && value !== "") signatures.push(value.toLowerCase());
      }
      if (timestamps.length !== 1) return rejected("malformed", "Stripe-Signature must carry exactly one t= timestamp");
      const signedTimestamp = timestamps[0] as string;
      const timestamp = parseUnixSeconds(signedTimestamp, "Stripe-Signature t=");
      if (isFailure(timestamp)) return timestamp;
      const outside = checkTimestampWindow(timestamp, now, tolerance);
      if (outside) return outside;
      if (signatures.length === 0) return rejected("bad_signature", "Stripe-Signature carries no v1 signature");

      const keyIndex = secrets.findIndex((secret) => {
        const expected = stripeSignature(secret, signedTimestamp, bytes);
        return signatures.some((signature) => signatureMatches(expected, signature));
      });
      if (keyIndex < 0) return rejected("bad_signature", "no v1 signature in Stripe-Signature matches a configured secret");
      return verified(keyIndex, { timestamp });
    },
  };
}

/** One-call form of {@link stripeWebhookVerifier}; throws only for invalid configuration, never for request input. */
export function verifyStripeWebhook(body: Buffer, headers: HeaderSource, options: StripeVerifierOptions & ClockOption): VerifyResult {
  return stripeWebhookVerifier(options).verify(body, headers, options.now);
}

/** Stripe-style signing (for tests and for senders that mimic Stripe): returns the `stripe-signature` header. */
export function signStripeWebhook(input: { body: Buffer | string; secrets: SecretList; now?: number }): { "stripe-signature": string } {
  const secrets = secretList(input.secrets, "stripe webhook signer");
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const parts = [`t=${timestamp}`, ...secrets.map((secret) => `v1=${stripeSignature(secret, timestamp, body)}`)];
  return { "stripe-signature": parts.join(",") };
}
