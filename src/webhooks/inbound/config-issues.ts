import type { ConfigIssue } from "../../config/issues.js";
import { normaliseInboundVerifier } from "../../config/webhooks-inbound.js";
import { errorMessage } from "../../core/errors.js";
import { jsonataSyntaxProblem } from "../../transform/jsonata-expression.js";
import { webhookVerifier } from "../signatures/verifier.js";
import { verifierOptions } from "./inbound-endpoint.js";

/** Checks of one `webhooks.inbound` entry beyond its schema: the secrets parse for the scheme, the expressions compile. */
export function inboundWebhookIssues(entry: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const verifier = entry.verifier as Record<string, unknown>;
  const config = normaliseInboundVerifier(verifier);
  if (config.secrets.length > 0 && (config.type !== "hmac" || config.header !== undefined)) {
    try {
      webhookVerifier(verifierOptions(config));
    } catch (error) {
      issues.push({ path: ["verifier"], message: errorMessage(error) });
    }
  }
  for (const key of ["event_type", "event_id"]) {
    const source = entry[key];
    if (typeof source !== "string") continue;
    const problem = jsonataSyntaxProblem(source);
    if (problem !== undefined) issues.push({ path: [key], message: problem });
  }
  return issues;
}
