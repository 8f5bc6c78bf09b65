import { createHmac } from "node:crypto";
import { configError } from "../../core/errors.js";
import { signatureMatches } from "./constant-time.js";
import { readHeader } from "./header-reader.js";
import { compileSignedContent } from "./hmac-content.js";
import { isFailure, rawBody } from "./raw-body.js";
import { secretList } from "./secret-list.js";
import { checkTimestampWindow, parseUnixSeconds, requireTolerance } from "./timestamp-window.js";
import { rejected, verified } from "./verify-result.js";
import type { ClockOption, HeaderSource, SecretList, VerifyResult, WebhookVerifier } from "./types.js";

export type HmacAlgorithm = "sha256" | "sha512" | "sha1";
export type SignatureEncoding = "hex" | "base64";

/** How a provider signs: the same options drive verification and signing. */
export interface HmacSchemeOptions {
  /** Header carrying the signature, e.g. `X-Signature`. */
  header: string;
  algorithm?: HmacAlgorithm;
  encoding?: SignatureEncoding;
  /** Text before the signature in the header, e.g. `sha256=` (default none). */
  prefix?: string;
  /** How the configured secrets are written: `utf8` (as-is, default), `base64` or `hex`. */
  secretEncoding?: "utf8" | "base64" | "hex";
  /** Header carrying a unix-seconds timestamp; when set, the timestamp is enforced within the tolerance. */
  timestampHeader?: string;
  /** Header carrying a message id, returned as `id` for replay protection. */
  idHeader?: string;
  /** What is signed: `{body}`, `{timestamp}` and `{id}` placeholders (default `{timestamp}.{body}` with a timestamp header, else `{body}`). */
  signedContent?: string;
}

export interface HmacVerifierOptions extends HmacSchemeOptions {
  secrets: SecretList;
  /** Accepted clock difference either way, in seconds (default 300); only with `timestampHeader`. */
  toleranceSeconds?: number;
}

const ALGORITHMS: readonly HmacAlgorithm[] = ["sha256", "sha512", "sha1"];

interface CompiledScheme {
  header: string;
  algorithm: HmacAlgorithm;
  encoding: SignatureEncoding;
  prefix: string;
  keys: Buffer[];
  content: ReturnType<typeof compileSignedContent>;
  timestampHeader: string | undefined;
  idHeader: string | undefined;
}

function compileScheme(options: HmacSchemeOptions, secrets: SecretList, what: string): CompiledScheme {
  if (typeof options.header !== "string" || options.header.trim() === "") throw configError(`${what}: header is required (the header that carries the signature)`);
  const algorithm = options.algorithm ?? "sha256";
  if (!ALGORITHMS.includes(algorithm)) throw configError(`${what}: algorithm must be one of ${ALGORITHMS.join(", ")}`);
  const encoding = options.encoding ?? "hex";
  if (encoding !== "hex" && encoding !== "base64") throw configError(`${what}: encoding must be hex or base64`);
  const secretEncoding = options.secretEncoding ?? "utf8";
  const keys = secretList(secrets, what).map((secret, index) => {
    const key = Buffer.from(secret, secretEncoding);
    if (key.length === 0) throw configError(`${what}: secret #${index + 1} is not valid ${secretEncoding}`);
    return key;
  });
  const content = compileSignedContent(options.signedContent ?? (options.timestampHeader ? "{timestamp}.{body}" : "{body}"), what);
  if (content.usesTimestamp && !options.timestampHeader) throw configError(`${what}: signed_content uses {timestamp} but timestamp_header is not set`);
  if (content.usesId && !options.idHeader) throw configError(`${what}: signed_content uses {id} but id_header is not set`);
  return { header: options.header, algorithm, encoding, prefix: options.prefix ?? "", keys, content, timestampHeader: options.timestampHeader, idHeader: options.idHeader };
}

function digest(scheme: CompiledScheme, key: Buffer, content: Buffer): string {
  return createHmac(scheme.algorithm, key).update(content).digest(scheme.encoding);
}

/** Verifies a provider-specific HMAC signature: header, algorithm, encoding, prefix, timestamp and signed content are configurable. */
export function hmacWebhookVerifier(options: HmacVerifierOptions): WebhookVerifier {
  const what = "hmac webhook verifier";
  const scheme = compileScheme(options, options.secrets, what);
  const tolerance = requireTolerance(options.toleranceSeconds, what);

  return {
    type: "hmac",
    verify(body: Buffer, headers: HeaderSource, now: number = Date.now()): VerifyResult {
      const bytes = rawBody(body);
      if (isFailure(bytes)) return bytes;
      const facts: { id?: string; timestamp?: number } = {};
      const values: { body: Buffer; timestamp?: string; id?: string } = { body: bytes };
      let signatureValue = "";
      for (const [field, name] of [["signature", scheme.header], ["timestamp", scheme.timestampHeader], ["id", scheme.idHeader]] as const) {
        if (name === undefined) continue;
        const header = readHeader(headers, name);
        if (header.kind === "missing") return rejected("missing_header", `the ${name} header is missing`);
        if (header.kind === "duplicate") return rejected("malformed", `the ${name} header was sent more than once`);
        if (field === "signature") {
          signatureValue = header.value;
        } else if (field === "timestamp") {
          const timestamp = parseUnixSeconds(header.value, name);
          if (isFailure(timestamp)) return timestamp;
          const outside = checkTimestampWindow(timestamp, now, tolerance);
          if (outside) return outside;
          values.timestamp = header.value;
          facts.timestamp = timestamp;
        } else {
          values.id = facts.id = header.value;
        }
      }
      if (!signatureValue.startsWith(scheme.prefix)) return rejected("malformed", `${scheme.header} must start with ${scheme.prefix}`);
      const signature = signatureValue.slice(scheme.prefix.length).trim();
      const received = scheme.encoding === "hex" ? signature.toLowerCase() : signature;

      const content = scheme.content.render(values);
      const keyIndex = scheme.keys.findIndex((key) => signatureMatches(digest(scheme, key, content), received));
      if (keyIndex < 0) return rejected("bad_signature", `${scheme.header} does not match a configured secret`);
      return verified(keyIndex, facts);
    },
  };
}

/** One-call form of {@link hmacWebhookVerifier}; throws only for invalid configuration, never for request input. */
export function verifyHmacWebhook(body: Buffer, headers: HeaderSource, options: HmacVerifierOptions & ClockOption): VerifyResult {
  return hmacWebhookVerifier(options).verify(body, headers, options.now);
}

/** Signs with the first secret the way {@link hmacWebhookVerifier} with the same options verifies; returns the headers to send. */
export function signHmacWebhook(
  options: HmacSchemeOptions & { secrets: SecretList },
  input: { body: Buffer | string; now?: number; id?: string },
): Record<string, string> {
  const what = "hmac webhook signer";
  const scheme = compileScheme(options, options.secrets, what);
  if (scheme.idHeader && input.id === undefined) throw configError(`${what}: id_header is set, so an id is required to sign`);
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const headers: Record<string, string> = {};
  if (scheme.timestampHeader) headers[scheme.timestampHeader] = timestamp;
  if (scheme.idHeader && input.id !== undefined) headers[scheme.idHeader] = input.id;
  const content = scheme.content.render({ body, timestamp, ...(input.id === undefined ? {} : { id: input.id }) });
  headers[scheme.header] = scheme.prefix + digest(scheme, scheme.keys[0] as Buffer, content);
  return headers;
}
