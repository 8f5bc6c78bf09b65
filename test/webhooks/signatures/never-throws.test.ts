import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateStandardWebhookKeyPair, generateStandardWebhookSecret, webhookVerifier } from "../../../src/webhooks/signatures/index.js";
import type { HeaderSource, WebhookVerifier } from "../../../src/webhooks/signatures/index.js";

// A seeded generator keeps failures reproducible.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const FRAGMENTS = ["", " ", ",", ",,", "=", "t=", "t=1700000000", "v1,", "v1a,", "v1=", "v0=", "sha256=", "sha1=", "1700000000", "-1", "1e9", "NaN",
  "Zm9vYmFy", "====", "!!", "\u0000", "\u00e9\ud83c\udf70", ".", "msg_1", "a".repeat(5000), "\t", "ff".repeat(32)];
const NAMES = ["webhook-id", "webhook-timestamp", "webhook-signature", "Stripe-Signature", "X-Hub-Signature-256", "X-GitHub-Delivery", "X-Sig", "X-Ts", "WEBHOOK-SIGNATURE"];

function junkValue(next: () => number): string | string[] | undefined {
  const roll = next();
  if (roll < 0.05) return undefined;
  const text = Array.from({ length: 1 + Math.floor(next() * 5) }, () => FRAGMENTS[Math.floor(next() * FRAGMENTS.length)]).join("");
  return roll < 0.15 ? [text, text] : text;
}

function junkHeaders(next: () => number): HeaderSource {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const name of NAMES) if (next() < 0.7) headers[name] = junkValue(next);
  return headers;
}

function junkBody(next: () => number): unknown {
  const roll = next();
  if (roll < 0.1) return JSON.parse('{"a":1}');
  if (roll < 0.15) return "a string body";
  if (roll < 0.2) return undefined;
  return Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
}

const verifiers: WebhookVerifier[] = [
  webhookVerifier({ type: "standard", secrets: [generateStandardWebhookSecret(), generateStandardWebhookKeyPair().publicKey] }),
  webhookVerifier({ type: "stripe", secrets: "whsec_fuzz" }),
  webhookVerifier({ type: "github", secrets: "fuzz" }),
  webhookVerifier({ type: "hmac", header: "X-Sig", prefix: "sha256=", timestampHeader: "X-Ts", encoding: "base64", secrets: "fuzz" }),
];

describe("verifiers never throw on hostile input", () => {
  for (const verifier of verifiers) {
    test(`${verifier.type}: 1,000 junk requests are rejected with a reason, never an exception`, () => {
      const next = random(0x5eed + verifier.type.length);
      for (let i = 0; i < 1000; i++) {
        const result = verifier.verify(junkBody(next) as Buffer, junkHeaders(next), 1_700_000_000_000);
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reason, /^(missing_header|malformed|stale|future|bad_signature)$/);
      }
    });
  }
});
