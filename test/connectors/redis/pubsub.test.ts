// @needs-service redis
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigProblemsError, loadConfigFromString } from "../../../src/config/index.js";
import { connectorSpecs } from "../../../src/connectors/registry.js";
import { redisConnector } from "../../../src/connectors/redis/index.js";
import type { Batch } from "../../../src/connectors/types.js";
import { sleep } from "../../../src/core/abort.js";
import { createMessage } from "../../../src/core/message.js";
import { transformSpecs } from "../../../src/transform/registry.js";
import { serviceSkipReason } from "../../support/services.js";
import { capturingLogger, LEVEL } from "../log-capture.js";
import { RedisFixture, nextBatch } from "./redis-fixture.js";
import type { RedisConnection } from "./redis-fixture.js";

const checkSource = redisConnector.check.source;
const checkSink = redisConnector.check.sink;

function paths(issues: Array<{ path: Array<string | number> }>): string[] {
  return issues.map((issue) => issue.path.join("."));
}

describe("redis config checks", () => {
  test("pub/sub needs at_most_once: true, with a message saying what is lost and to use a stream instead", () => {
    const [issue] = checkSource({ channel: "events" });
    assert.deepEqual(issue?.path, ["channel"]);
    assert.match(issue?.message ?? "", /lost/);
    assert.match(issue?.message ?? "", /at_most_once: true/);
    assert.match(issue?.message ?? "", /use a stream/);
    assert.deepEqual(paths(checkSource({ pattern: "events.*", at_most_once: false })), ["pattern"]);
    assert.deepEqual(checkSource({ channel: "events", at_most_once: true }), []);
    const [sinkIssue] = checkSink({ channel: "events" });
    assert.deepEqual(sinkIssue?.path, ["channel"]);
    assert.match(sinkIssue?.message ?? "", /no subscriber/);
    assert.match(sinkIssue?.message ?? "", /use a stream/);
    assert.deepEqual(checkSink({ channel: "alerts.{{ level }}", at_most_once: true }), []);
  });

  test("exactly one of stream, channel or pattern; stream-only and pub/sub-only options are refused elsewhere", () => {
    assert.deepEqual(paths(checkSource({})), [""]);
    assert.deepEqual(paths(checkSource({ stream: "s", channel: "c", at_most_once: true })), ["channel"]);
    assert.deepEqual(paths(checkSource({ channel: "c", at_most_once: true, group: "g", claim_idle: "1s", dead_letter_stream: "d" })), ["group", "claim_idle", "dead_letter_stream"]);
    assert.deepEqual(paths(checkSource({ stream: "s", at_most_once: true, max_buffered: 5 })), ["at_most_once", "max_buffered"]);
    assert.deepEqual(paths(checkSource({ stream: "s", dead_letter_stream: "s" })), ["dead_letter_stream"]);
    assert.deepEqual(paths(checkSource({ stream: "s", key: "{{ id" })), ["key"]);
    assert.deepEqual(paths(checkSink({})), [""]);
    assert.deepEqual(paths(checkSink({ stream: "s", channel: "c" })), ["channel"]);
    assert.deepEqual(paths(checkSink({ stream: "s-{{ x" })), ["stream"]);
    assert.deepEqual(paths(checkSink({ channel: "c", at_most_once: true, max_len: 5, cloudevents: { mode: "binary" } })), ["max_len", "cloudevents.mode"]);
    assert.deepEqual(checkSink({ stream: "orders:{{ region }}", max_len: 1000, cloudevents: { mode: "binary" } }), []);
  });

  test("junction validate reports a pub/sub source without at_most_once at its path", async () => {
    const yaml = `version: 1
connections:
  bus: { type: redis }
  out: { type: stdout }
integrations:
  listen:
    source: { connection: bus, channel: notifications }
    target: { connection: out }
    sync: { trigger: continuous }
`;
    await assert.rejects(
      loadConfigFromString(yaml, "junction.yaml", { connectors: connectorSpecs, transforms: transformSpecs }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigProblemsError);
        const problem = error.problems.find((p) => p.path === "integrations.listen.source.channel");
        assert.ok(problem, JSON.stringify(error.problems));
        assert.equal(problem.line, 7);
        assert.match(problem.message, /at_most_once: true/);
        return true;
      },
    );
    const accepted = await loadConfigFromString(yaml.replace("channel: notifications", "channel: notifications, at_most_once: true"), "junction.yaml", {
      connectors: connectorSpecs,
      transforms: transformSpecs,
    });
    assert.ok(accepted.config.integrations.listen);
  });
});

describe("redis pub/sub", { skip: await serviceSkipReason("redis") }, () => {
  const fx = new RedisFixture("pubsub");
  let redis: RedisConnection;
  const signal = new AbortController().signal;

  before(async () => {
    redis = await fx.connect();
  });
  after(() => fx.tearDown());

  async function subscribed(channel: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const counts = (await fx.raw.call("PUBSUB", "NUMSUB", channel)) as [string, number];
      if (Number(counts[1]) > 0) return;
      await sleep(10);
    }
    throw new Error(`nobody subscribed to ${channel}`);
  }

  test("channel: the sink PUBLISHes, the subscribed source receives; acks do nothing", async () => {
    const channel = fx.name("ch");
    const controller = new AbortController();
    const iterator = fx.source(redis, { channel, at_most_once: true, key: "{{ n }}" }, { follow: true }).batches(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    await subscribed(channel);
    const sink = fx.sink(redis, { channel, at_most_once: true, cloudevents: { mode: "structured" } });
    const outcome = await sink.write([createMessage({ id: "p1", payload: { n: 1 }, correlationId: "corr-p" }), createMessage({ id: "p2", payload: { n: 2 } })], signal);
    assert.deepEqual(outcome.failures, []);
    const batches: Batch[] = [(await first).value as Batch];
    while (batches.flatMap((b) => b.messages).length < 2) batches.push(await nextBatch(iterator));
    const messages = batches.flatMap((b) => b.messages);
    assert.deepEqual(messages.map((m) => m.payload), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(messages.map((m) => m.id), ["p1", "p2"], "the structured CloudEvent carries the id");
    assert.equal(messages[0]?.correlationId, "corr-p", "and the correlation id");
    assert.deepEqual(messages.map((m) => m.key), ["1", "2"]);
    assert.equal(messages[0]?.metadata.channel, channel);
    await batches[0]?.ack();
    controller.abort();
    assert.equal((await iterator.next()).done, true);
  });

  test("pattern: PSUBSCRIBE, the channel in metadata; an undecodable message is reported in Batch.invalid", async () => {
    const base = fx.name("pt");
    const controller = new AbortController();
    const iterator = fx.source(redis, { pattern: `${base}.*`, at_most_once: true }, { follow: true }).batches(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    for (let i = 0; i < 100 && Number(await fx.raw.call("PUBSUB", "NUMPAT")) === 0; i++) await sleep(10);
    await sleep(50);
    await fx.raw.publish(`${base}.eu`, "{broken");
    await fx.raw.publish(`${base}.us`, '{"ok":true}');
    const batches: Batch[] = [(await first).value as Batch];
    while (batches.flatMap((b) => b.messages).length < 2) batches.push(await nextBatch(iterator));
    const messages = batches.flatMap((b) => b.messages);
    assert.deepEqual(messages.map((m) => m.metadata.channel), [`${base}.eu`, `${base}.us`]);
    assert.equal(messages[0]?.metadata.pattern, `${base}.*`);
    assert.match(messages[0]?.id ?? "", new RegExp(`^redis:${base}\\.eu:`));
    const invalid = batches.flatMap((b) => [...(b.invalid?.keys() ?? [])]);
    assert.deepEqual(invalid, [messages[0]]);
    controller.abort();
    await iterator.return?.();
  });

  test("beyond max_buffered, new messages are dropped with a warning (pub/sub cannot be paused)", async () => {
    const channel = fx.name("ch");
    const { logger, lines } = capturingLogger();
    const controller = new AbortController();
    const source = fx.source(redis, { channel, at_most_once: true, max_buffered: 3 }, { follow: true, logger, batchSize: 100 });
    const iterator = source.batches(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    await subscribed(channel);
    // The first message is pulled at once (the pending next()); then 3 fit, the rest are dropped.
    const pipeline = fx.raw.pipeline();
    for (let i = 0; i < 10; i++) pipeline.publish(channel, JSON.stringify({ i }));
    await pipeline.exec();
    await sleep(100);
    const received: number[] = [];
    let next = first;
    for (;;) {
      const result = await Promise.race([next, sleep(300).then(() => undefined)]);
      if (result === undefined || result.done) break;
      received.push(...(result.value as Batch).messages.map((m) => (m.payload as { i: number }).i));
      next = iterator.next();
    }
    assert.ok(received.length >= 3 && received.length <= 4, `received ${received.join(",")}`);
    assert.ok(lines.some((line) => line.level === LEVEL.warn && /dropped \d+ pub\/sub messages/.test(line.msg)));
    controller.abort();
    await next;
  });

  test("once (not following): takes what is waiting and ends", async () => {
    const channel = fx.name("ch");
    const batches = [];
    for await (const batch of fx.source(redis, { channel, at_most_once: true }).batches(signal)) batches.push(batch);
    assert.deepEqual(batches, []);
  });
});
