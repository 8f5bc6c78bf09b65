import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { configError } from "../../core/errors.js";

/** Prefixes of the Standard Webhooks key formats: HMAC secret, ed25519 secret key, ed25519 public key. */
export const STANDARD_SECRET_PREFIX = "whsec_";
export const STANDARD_SECRET_KEY_PREFIX = "whsk_";
export const STANDARD_PUBLIC_KEY_PREFIX = "whpk_";

export type StandardVerificationKey =
  | { scheme: "v1"; hmacKey: Buffer }
  | { scheme: "v1a"; publicKey: KeyObject };

export type StandardSigningKey = { scheme: "v1"; hmacKey: Buffer } | { scheme: "v1a"; privateKey: KeyObject };

// DER headers that turn a raw 32-byte ed25519 seed / public key into PKCS#8 / SPKI documents.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(encoded: string, what: string, index: number): Buffer {
  const bytes = BASE64.test(encoded) ? Buffer.from(encoded, "base64") : Buffer.alloc(0);
  if (bytes.length === 0) throw configError(`${what}: key #${index + 1} is not valid base64 after its prefix`);
  return bytes;
}

function ed25519PrivateKey(seedOrPair: Buffer, what: string, index: number): KeyObject {
  // 32 bytes is the seed (Go, Python libraries); 64 bytes is libsodium's seed followed by the public key.
  if (seedOrPair.length !== 32 && seedOrPair.length !== 64) {
    throw configError(`${what}: key #${index + 1} (whsk_) must hold a 32-byte ed25519 seed`);
  }
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seedOrPair.subarray(0, 32)]), format: "der", type: "pkcs8" });
}

function ed25519PublicKey(raw: Buffer, what: string, index: number): KeyObject {
  if (raw.length !== 32) throw configError(`${what}: key #${index + 1} (whpk_) must hold a 32-byte ed25519 public key`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/**
 * Parses a verification key by its prefix: `whsec_` (or bare base64) is an HMAC secret checked against `v1`
 * signatures, `whpk_` a public key checked against `v1a`; a `whsk_` secret key verifies too, through its public half.
 */
export function parseStandardVerificationKey(key: string, what: string, index: number): StandardVerificationKey {
  if (key.startsWith(STANDARD_PUBLIC_KEY_PREFIX)) {
    return { scheme: "v1a", publicKey: ed25519PublicKey(decodeBase64(key.slice(STANDARD_PUBLIC_KEY_PREFIX.length), what, index), what, index) };
  }
  if (key.startsWith(STANDARD_SECRET_KEY_PREFIX)) {
    const privateKey = ed25519PrivateKey(decodeBase64(key.slice(STANDARD_SECRET_KEY_PREFIX.length), what, index), what, index);
    return { scheme: "v1a", publicKey: createPublicKey(privateKey) };
  }
  const encoded = key.startsWith(STANDARD_SECRET_PREFIX) ? key.slice(STANDARD_SECRET_PREFIX.length) : key;
  return { scheme: "v1", hmacKey: decodeBase64(encoded, what, index) };
}

/** Parses a signing key: `whsec_` signs `v1` (HMAC-SHA256), `whsk_` signs `v1a` (ed25519). */
export function parseStandardSigningKey(key: string, what: string, index: number): StandardSigningKey {
  if (key.startsWith(STANDARD_PUBLIC_KEY_PREFIX)) {
    throw configError(`${what}: key #${index + 1} is a public key (whpk_); signing needs the secret key (whsk_)`);
  }
  if (key.startsWith(STANDARD_SECRET_KEY_PREFIX)) {
    return { scheme: "v1a", privateKey: ed25519PrivateKey(decodeBase64(key.slice(STANDARD_SECRET_KEY_PREFIX.length), what, index), what, index) };
  }
  const encoded = key.startsWith(STANDARD_SECRET_PREFIX) ? key.slice(STANDARD_SECRET_PREFIX.length) : key;
  return { scheme: "v1", hmacKey: decodeBase64(encoded, what, index) };
}

/** A new random HMAC secret in the Standard Webhooks format (`whsec_` + base64 of 32 bytes). */
export function generateStandardWebhookSecret(): string {
  return STANDARD_SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** A new ed25519 key pair in the Standard Webhooks format: sign with `secretKey`, publish `publicKey`. */
export function generateStandardWebhookKeyPair(): { secretKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(ED25519_PKCS8_PREFIX.length);
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(ED25519_SPKI_PREFIX.length);
  return { secretKey: STANDARD_SECRET_KEY_PREFIX + seed.toString("base64"), publicKey: STANDARD_PUBLIC_KEY_PREFIX + raw.toString("base64") };
}
