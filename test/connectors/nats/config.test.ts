// The nats connector's config checks: core NATS (a subject without a stream) only with an
// explicit at_most_once, JetStream and core options not mixed, templates that parse,
// credentials kept out of server URLs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigProblemsError, loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { natsConnector } from "../../../src/connectors/nats/index.js";
import { subjectMatches } from "../../../src/connectors/nats/subject-match.js";

const checkConfig = natsConnector.check.config;
const checkSource = natsConnector.check.source;
const checkSink = natsConnector.check.sink;

function paths(issues: Array<{ path: Array<string | number> }>): string[] {
  return issues.map((issue) => issue.path.join("."));
}

describe("nats config checks", () => {
  test("a core NATS subject needs at_most_once: true, with the reason and the alternative", () => {
    const [issue] = checkSource({ subject: "orders.>" });
    assert.deepEqual(issue?.path, ["subject"]);
    assert.match(issue?.message ?? "", /drops a message when nobody is subscribed/);
    assert.match(issue?.message ?? "", /stream/);
    assert.match(issue?.message ?? "", /at_most_once: true/);
    assert.deepEqual(checkSource({ subject: "orders.>", at_most_once: true, queue: "workers" }), []);

    const [sinkIssue] = checkSink({ subject: "orders.created" });
    assert.deepEqual(sinkIssue?.path, ["stream"]);
    assert.match(sinkIssue?.message ?? "", /at most once/);
    assert.match(sinkIssue?.message ?? "", /at_most_once: true/);
    assert.deepEqual(checkSink({ subject: "orders.created", at_most_once: true }), []);
    assert.deepEqual(checkSink({ subject: "orders.{{ region }}", stream: "ORDERS" }), []);
  });

  test("stream or subject, options of the right kind, templates that parse", () => {
    assert.deepEqual(paths(checkSource({})), [""]);
    assert.deepEqual(paths(checkSource({ stream: "S", subject: "a" })), ["subject"]);
    assert.deepEqual(paths(checkSource({ subject: "a", at_most_once: true, consumer: "c", nak_delay: "1s", dead_letter_subject: "d" })), ["consumer", "nak_delay", "dead_letter_subject"]);
    assert.deepEqual(paths(checkSource({ stream: "S", at_most_once: true, queue: "q", max_pending: 5 })), ["at_most_once", "queue", "max_pending"]);
    assert.deepEqual(paths(checkSource({ stream: "S", key: "{{ id" })), ["key"]);
    assert.deepEqual(checkSource({ stream: "S", consumer: "c", filter_subject: "a.>", max_deliver: 3, key: "{{ id }}" }), []);
    assert.deepEqual(paths(checkSink({ subject: "a.{{ x", stream: "S" })), ["subject"]);
    assert.deepEqual(paths(checkSink({ subject: "a", stream: "S", at_most_once: true })), ["at_most_once"]);
    assert.deepEqual(paths(checkSink({ subject: "a", stream: "S", headers: { "X-A": "{{ }}" } })), ["headers.X-A"]);
  });

  test("credentials belong in user/password or token, not in a server URL", () => {
    assert.deepEqual(paths(checkConfig({ servers: "nats://me:secret@127.0.0.1:4222" })), ["servers"]);
    assert.deepEqual(paths(checkConfig({ servers: ["nats://a:4222", "nats://me:secret@b:4222"] })), ["servers.1"]);
    assert.deepEqual(paths(checkConfig({ user: "me" })), ["password"]);
    assert.deepEqual(paths(checkConfig({ token: "t", user: "me", password: "p" })), ["token"]);
    assert.deepEqual(paths(checkConfig({ streams: [{ name: "A" }, { name: "A" }] })), ["streams.1.name"]);
    assert.deepEqual(checkConfig({ servers: ["nats://a:4222", "tls://b:4222"], user: "me", password: "p", streams: [{ name: "A", subjects: ["a.>"] }] }), []);
  });

  test("subject filters match like the server's: * one token, a final > one or more", () => {
    assert.equal(subjectMatches("orders.>", "orders.eu.created"), true);
    assert.equal(subjectMatches("orders.>", "orders"), false);
    assert.equal(subjectMatches("orders.*.created", "orders.eu.created"), true);
    assert.equal(subjectMatches("orders.*", "orders.eu.created"), false);
    assert.equal(subjectMatches("orders.eu", "orders.eu"), true);
    assert.equal(subjectMatches("orders.eu", "orders.us"), false);
    assert.equal(subjectMatches(">", "anything.at.all"), true);
  });

  test("junction validate reports a core subject source without at_most_once at its line", async () => {
    const yaml = `version: 1
connections:
  bus: { type: nats }
  out: { type: stdout }
integrations:
  listen:
    source: { connection: bus, subject: metrics.cpu }
    target: { connection: out }
    sync: { trigger: continuous }
`;
    await assert.rejects(loadConfigFromString(yaml, "junction.yaml", builtinComponents, { env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigProblemsError);
      const problem = error.problems.find((p) => p.path === "integrations.listen.source.subject");
      assert.ok(problem, JSON.stringify(error.problems));
      assert.equal(problem.line, 7);
      assert.match(problem.message, /at_most_once: true/);
      return true;
    });
    const accepted = await loadConfigFromString(yaml.replace("subject: metrics.cpu", "subject: metrics.cpu, at_most_once: true"), "junction.yaml", builtinComponents, { env: {} });
    assert.ok(accepted.config.integrations.listen);
  });

  test("password and token are redacted secrets", async () => {
    const yaml = `version: 1
connections:
  bus: { type: nats, user: me, password: hunter2-nats }
  bus2: { type: nats, token: tok-nats-123 }
  out: { type: stdout }
integrations:
  listen:
    source: { connection: bus, stream: ORDERS }
    target: { connection: out }
`;
    const loaded = await loadConfigFromString(yaml, "junction.yaml", builtinComponents, { env: {} });
    assert.equal(loaded.redactor.redact("pw hunter2-nats token tok-nats-123"), "pw [redacted] token [redacted]");
  });
});
