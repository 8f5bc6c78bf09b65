import { didYouMean } from "../did-you-mean.js";
import { writtenTargets } from "../integration-targets.js";
import { NAME_PATTERN, NAME_RULE } from "../schema/engine.js";
import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";

type Path = Array<string | number>;
type Raw = Record<string, unknown>;

/** Paths of the admin server that an inbound webhook hosted there must not take. */
const ADMIN_PATHS = ["/health", "/ready", "/metrics", "/api"];
const HMAC_ONLY_KEYS = ["header", "algorithm", "encoding", "prefix", "secret_encoding", "timestamp_header", "id_header", "signed_content"];

/**
 * Rules of the `webhooks:` section and of the endpoints that name its entries: names,
 * one path per endpoint, secrets given once, and `webhook:` references that exist.
 */
export function checkWebhookRules(root: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const webhooks = isPlainMap(root.webhooks) ? root.webhooks : {};
  const inbound = isPlainMap(webhooks.inbound) ? webhooks.inbound : {};
  const outbound = isPlainMap(webhooks.outbound) ? webhooks.outbound : {};
  if (typeof webhooks.listen === "string" && !/^.+:\d{1,5}$/.test(webhooks.listen)) {
    issues.push({ path: ["webhooks", "listen"], message: `expected "host:port" such as "0.0.0.0:8080", got ${JSON.stringify(webhooks.listen)}` });
  }
  const paths = new Map<string, string>();
  for (const [name, entry] of Object.entries(inbound)) {
    const path: Path = ["webhooks", "inbound", name];
    if (!NAME_PATTERN.test(name)) issues.push({ path, at: "key", message: `invalid webhook name "${name}": use ${NAME_RULE}` });
    if (!isPlainMap(entry)) continue;
    if (typeof entry.path === "string") {
      const other = paths.get(entry.path);
      if (other !== undefined) issues.push({ path: [...path, "path"], message: `path ${entry.path} is already used by webhooks.inbound.${other}; give each endpoint its own path` });
      paths.set(entry.path, name);
      const admin = ADMIN_PATHS.find((p) => entry.path === p || (entry.path as string).startsWith(`${p}/`));
      if (admin !== undefined && webhooks.listen === undefined) {
        issues.push({ path: [...path, "path"], message: `path ${entry.path} belongs to the admin server (${admin}); choose another, e.g. /webhooks/${name}` });
      }
    }
    if (isPlainMap(entry.verifier)) issues.push(...checkVerifier([...path, "verifier"], entry.verifier));
  }
  for (const name of Object.keys(outbound)) {
    if (!NAME_PATTERN.test(name)) issues.push({ path: ["webhooks", "outbound", name], at: "key", message: `invalid webhook name "${name}": use ${NAME_RULE}` });
  }

  const integrations = isPlainMap(root.integrations) ? root.integrations : {};
  for (const [name, integration] of Object.entries(integrations)) {
    if (!isPlainMap(integration)) continue;
    const base: Path = ["integrations", name];
    if (isPlainMap(integration.source)) issues.push(...checkReference([...base, "source"], integration.source, "inbound", inbound));
    for (const target of writtenTargets(base, integration)) {
      if (isPlainMap(target.endpoint)) issues.push(...checkReference(target.path, target.endpoint, "outbound", outbound));
    }
  }
  return issues;
}

function checkVerifier(path: Path, verifier: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const hasSecret = verifier.secret !== undefined;
  const hasSecrets = verifier.secrets !== undefined;
  if (hasSecret === hasSecrets) {
    issues.push({ path, message: hasSecret ? "give either `secret` or `secrets`, not both" : "missing the signing secret: add `secret: ${MY_WEBHOOK_SECRET}` (or `secrets:` with several during a rotation)" });
  }
  if (verifier.type === "hmac") {
    if (verifier.header === undefined) issues.push({ path, message: 'hmac needs `header`, the request header that carries the signature, e.g. "X-Signature"' });
  } else if (typeof verifier.type === "string") {
    for (const key of HMAC_ONLY_KEYS) {
      if (verifier[key] !== undefined) issues.push({ path: [...path, key], at: "key", message: `"${key}" applies to type hmac only; the ${verifier.type} scheme fixes it` });
    }
  }
  return issues;
}

/** `connection` or `webhook`, exactly one; a `webhook` must name an entry of the right section. */
function checkReference(path: Path, endpoint: Raw, direction: "inbound" | "outbound", entries: Raw): LocatedIssue[] {
  const role = direction === "inbound" ? "source" : "target";
  const hasConnection = endpoint.connection !== undefined;
  const hasWebhook = endpoint.webhook !== undefined;
  if (hasConnection && hasWebhook) return [{ path: [...path, "webhook"], at: "key", message: `a ${role} has either \`connection\` or \`webhook\`, not both` }];
  if (!hasConnection && !hasWebhook) {
    return [{ path, message: `missing required key "connection" (a connection name${direction === "inbound" ? ", or `webhook:` with a webhooks.inbound name" : ", or `webhook:` with a webhooks.outbound name"})` }];
  }
  if (!hasWebhook || typeof endpoint.webhook !== "string") return [];
  if (Object.hasOwn(entries, endpoint.webhook)) return [];
  const defined = Object.keys(entries);
  const hint = defined.length === 0 ? `; none are defined: add one under webhooks.${direction}` : `${didYouMean(endpoint.webhook, defined)}; defined: ${defined.join(", ")}`;
  return [{ path: [...path, "webhook"], message: `unknown webhooks.${direction} entry "${endpoint.webhook}"${hint}` }];
}
