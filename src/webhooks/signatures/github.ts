import { createHmac } from "node:crypto";
import { signatureMatches } from "./constant-time.js";
import { readHeader } from "./header-reader.js";
import { isFailure, rawBody } from "./raw-body.js";
import { secretList } from "./secret-list.js";
import { rejected, verified } from "./verify-result.js";
import type { ClockOption, HeaderSource, SecretList, VerifyResult, WebhookVerifier } from "./types.js";

export const GITHUB_SIGNATURE_HEADER = "x-hub-signature-256";
export const GITHUB_DELIVERY_HEADER = "x-github-delivery";

export interface GithubVerifierOptions {
  /** Webhook secrets as entered in GitHub; several during a rotation. */
  secrets: SecretList;
}

const PREFIX = "sha256=";

function githubSignature(secret: string, body: Buffer): string {
  return PREFIX + createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Verifies `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the body). GitHub signs no timestamp, so
 * replays can only be stopped by remembering the `X-GitHub-Delivery` id, returned here as `id`.
 */
export function githubWebhookVerifier(options: GithubVerifierOptions): WebhookVerifier {
  const secrets = secretList(options.secrets, "github webhook verifier");

  return {
    type: "github",
    verify(body: Buffer, headers: HeaderSource): VerifyResult {
      const bytes = rawBody(body);
      if (isFailure(bytes)) return bytes;
      const header = readHeader(headers, GITHUB_SIGNATURE_HEADER);
      if (header.kind === "missing") return rejected("missing_header", "the X-Hub-Signature-256 header is missing");
      if (header.kind === "duplicate") return rejected("malformed", "the X-Hub-Signature-256 header was sent more than once");
      if (!header.value.toLowerCase().startsWith(PREFIX)) return rejected("malformed", "X-Hub-Signature-256 must start with sha256=");
      const received = header.value.toLowerCase();
      const delivery = readHeader(headers, GITHUB_DELIVERY_HEADER);
      if (delivery.kind === "duplicate") return rejected("malformed", "the X-GitHub-Delivery header was sent more than once");

      const keyIndex = secrets.findIndex((secret) => signatureMatches(githubSignature(secret, bytes), received));
      if (keyIndex < 0) return rejected("bad_signature", "X-Hub-Signature-256 does not match a configured secret");
      return delivery.kind === "value" ? verified(keyIndex, { id: delivery.value }) : verified(keyIndex);
    },
  };
}

/** One-call form of {@link githubWebhookVerifier}; throws only for invalid configuration, never for request input. */
export function verifyGithubWebhook(body: Buffer, headers: HeaderSource, options: GithubVerifierOptions & ClockOption): VerifyResult {
  return githubWebhookVerifier(options).verify(body, headers, options.now);
}

/** GitHub-style signing (for tests and interop): returns `x-hub-signature-256` and, when given, `x-github-delivery`. */
export function signGithubWebhook(input: { body: Buffer | string; secret: string; deliveryId?: string }): Record<string, string> {
  const secret = secretList(input.secret, "github webhook signer")[0] as string;
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const headers: Record<string, string> = { [GITHUB_SIGNATURE_HEADER]: githubSignature(secret, body) };
  if (input.deliveryId !== undefined) headers[GITHUB_DELIVERY_HEADER] = input.deliveryId;
  return headers;
}
