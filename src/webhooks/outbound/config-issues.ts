import type { ConfigIssue } from "../../config/issues.js";
import { NAME_PATTERN, NAME_RULE } from "../../config/schema/engine.js";
import { strings } from "../../config/webhooks-outbound.js";
import { isPlainMap } from "../../config/validation/plain-map.js";
import { parseDuration } from "../../core/duration.js";
import { jsonataSyntaxProblem } from "../../transform/jsonata-expression.js";
import { parseStandardSigningKey } from "../signatures/standard-keys.js";
import { AddressPolicy } from "./address-policy.js";
import { eventFilterProblem } from "../event-filter.js";

type Raw = Record<string, unknown>;
type OutboundWebhookIssue = ConfigIssue;

function map(value: unknown): Raw {
  return isPlainMap(value) ? value : {};
}

function ms(value: unknown, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

/** Headers the runtime sets itself; config cannot replace them. */
const RESERVED_HEADERS = new Set(["webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "user-agent", "host"]);

/**
 * Checks of a schema-valid entry that the schema cannot express: URLs, signing keys, event
 * filters, JSONata, CIDR ranges. Paths are relative to the entry; messages never quote a secret.
 */
export function outboundWebhookIssues(raw: Raw): OutboundWebhookIssue[] {
  const issues: OutboundWebhookIssue[] = [];
  for (const key of ["event_type", "payload"] as const) {
    const source = raw[key];
    if (typeof source !== "string") continue;
    const problem = jsonataSyntaxProblem(source);
    if (problem !== undefined) issues.push({ path: [key], message: problem });
  }
  strings(raw.allow).forEach((entry, index) => {
    try {
      new AddressPolicy({ allow: [entry] });
    } catch (error) {
      issues.push({ path: ["allow", index], message: (error as Error).message });
    }
  });
  if (Array.isArray(raw.schedule) && raw.schedule.every((delay) => ms(delay, 0) === 0) && raw.schedule.length > 1) {
    issues.push({ path: ["schedule"], message: "every delay is 0: a failing endpoint would get all its attempts at once; space them out (e.g. [0s, 5s, 5m, 30m])" });
  }
  for (const [name, block] of Object.entries(map(raw.endpoints))) issues.push(...endpointIssues(map(block)).map((issue) => ({ ...issue, path: ["endpoints", name, ...issue.path] })));
  for (const name of Object.keys(map(raw.endpoints))) {
    if (!NAME_PATTERN.test(name)) issues.push({ path: ["endpoints", name], message: `endpoint names use ${NAME_RULE}` });
  }
  return issues;
}

/** An outbound webhook target's own checks (`target: { webhook, event_type }`); paths relative to the target. */
export function outboundWebhookTargetIssues(raw: Raw): OutboundWebhookIssue[] {
  const problem = typeof raw.event_type === "string" ? jsonataSyntaxProblem(raw.event_type) : undefined;
  return problem === undefined ? [] : [{ path: ["event_type"], message: problem }];
}

function endpointIssues(raw: Raw): OutboundWebhookIssue[] {
  const issues: OutboundWebhookIssue[] = [];
  const url = parseUrl(raw.url);
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    issues.push({ path: ["url"], message: 'expected an http:// or https:// URL, e.g. "https://hooks.example.com/junction"' });
  } else if (url.username !== "" || url.password !== "") {
    issues.push({ path: ["url"], message: "remove the credentials from the URL: receivers authenticate the sender by the webhook signature" });
  }
  if (raw.secret !== undefined && raw.secrets !== undefined) issues.push({ path: ["secrets"], message: "use either `secret` or `secrets`, not both" });
  if (raw.secret === undefined && raw.secrets === undefined) {
    issues.push({ path: [], message: "needs a signing key: `secret: whsec_…` (HMAC, v1) or `secret: whsk_…` (ed25519, v1a); e.g. `whsec_` followed by 32 random bytes in base64 (`echo whsec_$(openssl rand -base64 32)`)" });
  }
  const keys: [(string | number)[], unknown][] = raw.secret !== undefined ? [[["secret"], raw.secret]] : strings(raw.secrets).map((key, index) => [["secrets", index], key]);
  for (const [path, key] of keys) {
    const problem = signingKeyProblem(key);
    if (problem !== undefined) issues.push({ path, message: problem });
  }
  strings(raw.events).forEach((filter, index) => {
    const problem = eventFilterProblem(filter);
    if (problem !== undefined) issues.push({ path: ["events", index], message: problem });
  });
  for (const header of Object.keys(map(raw.headers))) {
    if (RESERVED_HEADERS.has(header.toLowerCase())) issues.push({ path: ["headers", header], message: `"${header}" is set by Junction on every request and cannot be configured` });
  }
  return issues;
}

function signingKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string") return undefined;
  if (!key.startsWith("whsec_") && !key.startsWith("whsk_")) {
    return key.startsWith("whpk_")
      ? "this is a public key (whpk_…): signing needs the secret key (whsk_…); give the public key to the receiver"
      : "expected a Standard Webhooks signing key: whsec_… (HMAC, v1) or whsk_… (ed25519, v1a)";
  }
  try {
    parseStandardSigningKey(key, "signing key", 0);
    return undefined;
  } catch (error) {
    // The parser's messages name the key by position, never by value.
    return (error as Error).message.replace(/^signing key: key #1 /, "the key ");
  }
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
