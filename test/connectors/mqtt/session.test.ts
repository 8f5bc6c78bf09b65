// @needs-service mqtt
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { connectAsync } from "mqtt";
import type { Batch } from "../../../src/connectors/types.js";
import { errorKind } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { MQTT_URL, MqttFixture, messagesOf, quietFor, takeMessages } from "./mqtt-fixture.js";

const fx = new MqttFixture("session");
after(() => fx.tearDown());

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ n: from + i }));
const ns = (batches: readonly Batch[]) => messagesOf(batches).map((m) => (m.payload as { n: number }).n);
/** Message ids the publisher set, so that a redelivery can be recognised. */
const withIds = (topic: string, count: number) =>
  fx.raw().then(async (client) => {
    for (let n = 1; n <= count; n++) await client.publishAsync(topic, JSON.stringify({ n }), { qos: 1, properties: { userProperties: { "message-id": `m${n}` } } });
    await client.endAsync();
  });

describe("mqtt persistent sessions and acknowledgements", { skip: await serviceSkipReason("mqtt") }, () => {
  test("messages published while the consumer is offline arrive when it comes back", async () => {
    const topic = fx.topic("offline");
    const clientId = fx.clientId("offline");
    const first = await fx.connect({ client_id: clientId });
    const source = fx.source(first, { topics: [topic] });
    await takeMessagesAfter(source, () => fx.publish(topic, numbered(1, 1)), 1);
    await first.close();

    await fx.publish(topic, numbered(2, 11));
    const again = await fx.connect({ client_id: clientId });
    const batches = await takeMessages(fx.source(again, { topics: [topic] }), 10);
    assert.deepEqual(ns(batches), numbered(2, 11).map((p) => p.n));
  });

  test("acknowledged messages are not delivered again; unacknowledged ones are, with dup set and attempt 2", async () => {
    const topic = fx.topic("redeliver");
    const clientId = fx.clientId("redeliver");
    await fx.createSession(clientId, topic);
    await withIds(topic, 6);

    const first = await fx.connect({ client_id: clientId });
    const source = fx.source(first, { topics: [topic] }, { batchSize: 3 });
    const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const acked = (await iterator.next()).value as Batch;
    await acked.ack();
    const left = [acked.messages.length];
    const unacked: Batch[] = [];
    while (left.reduce((a, b) => a + b, 0) < 6) {
      const batch = (await iterator.next()).value as Batch;
      unacked.push(batch);
      left.push(batch.messages.length);
    }
    await iterator.return?.();
    await first.close();

    const again = await fx.connect({ client_id: clientId });
    const redelivered = messagesOf(await takeMessages(fx.source(again, { topics: [topic] }), 6 - acked.messages.length));
    assert.deepEqual(
      redelivered.map((m) => m.id),
      messagesOf(unacked).map((m) => m.id),
    );
    assert.ok(redelivered.every((m) => m.metadata.dup === true && m.attempt === 2));
    assert.ok(!redelivered.some((m) => acked.messages.some((a) => a.id === m.id)));
    assert.equal(await quietFor(fx.source(again, { topics: [topic] }), 400), 0, "everything was acknowledged the second time");
  });

  test("QoS 2: a message whose batch was not acked (no PUBREC sent) comes again after a reconnect", async () => {
    const topic = fx.topic("qos2");
    const clientId = fx.clientId("qos2");
    await fx.createSession(clientId, topic, 2);
    await fx.publish(topic, numbered(1, 3), { qos: 2 });

    const first = await fx.connect({ client_id: clientId });
    assert.deepEqual(ns(await takeMessages(fx.source(first, { topics: [topic], qos: 2 }), 3, { ack: false })), [1, 2, 3]);
    await first.close();

    const again = await fx.connect({ client_id: clientId });
    const batches = await takeMessages(fx.source(again, { topics: [topic], qos: 2 }), 3);
    assert.deepEqual(ns(batches), [1, 2, 3]);
    await again.close();
    const third = await fx.connect({ client_id: clientId });
    assert.equal(await quietFor(fx.source(third, { topics: [topic], qos: 2 }), 400), 0);
  });

  test("a source closed with unacknowledged messages while the connection stays open gets them again in the next run", async () => {
    const topic = fx.topic("rerun");
    const clientId = fx.clientId("rerun");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, numbered(1, 4));
    const connection = await fx.connect({ client_id: clientId });

    const firstRun = fx.source(connection, { topics: [topic] });
    await takeMessages(firstRun, 4, { ack: false });
    await firstRun.close?.();

    const secondRun = fx.source(connection, { topics: [topic] });
    const batches = await takeMessages(secondRun, 4);
    assert.deepEqual(ns(batches), [1, 2, 3, 4]);
    assert.ok(messagesOf(batches).every((m) => m.attempt === 2));
  });

  test("the broker's in-flight window bounds what is buffered: nothing more arrives until a batch is acked", async () => {
    const topic = fx.topic("window");
    const clientId = fx.clientId("window");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, numbered(1, 25));
    const connection = await fx.connect({ client_id: clientId, max_in_flight: 10 });
    const source = fx.source(connection, { topics: [topic] }, { batchSize: 100 });
    const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Batch;
    assert.equal(first.messages.length, 10);
    const next = iterator.next();
    const early = await Promise.race([next.then(() => "came"), new Promise((r) => setTimeout(() => r("waited"), 500))]);
    assert.equal(early, "waited", "no message beyond the window before the ack");
    await first.ack();
    const second = (await next).value as Batch;
    const following = second.messages.map((m) => (m.payload as { n: number }).n);
    assert.equal(following[0], 11);
    assert.deepEqual(following, numbered(11, 10 + following.length).map((p) => p.n), "in order after the first window");
    await second.ack();
    await iterator.return?.();
  });

  test("a resumed session whose backlog overfills the buffer before the SUBACK still flows (MQTT 3.1.1, broker window 20)", async () => {
    const topic = fx.topic("backlog");
    const clientId = fx.clientId("backlog");
    await fx.createSession(clientId, topic, 1, 4);
    await fx.publish(topic, numbered(1, 60), { qos: 1 }, 4);
    // A buffer of 2 × 5 messages: the broker's 20 in-flight messages stop the socket being read.
    const connection = await fx.connect({ client_id: clientId, protocol_version: 4, max_in_flight: 5 });
    const batches = await takeMessages(fx.source(connection, { topics: [topic] }, { batchSize: 7 }), 60);
    assert.deepEqual(ns(batches), numbered(1, 60).map((p) => p.n));
    assert.ok(batches.every((batch) => batch.messages.length <= 7));
  });

  test("a dropped connection ends the batches with a transient error; the next run gets the unacked messages again", async () => {
    const topic = fx.topic("dropped");
    const clientId = fx.clientId("dropped");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, numbered(1, 3));
    const connection = await fx.connect({ client_id: clientId, reconnect_period: "200ms" });
    const source = fx.source(connection, { topics: [topic] });
    const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const batch = (await iterator.next()).value as Batch;
    assert.equal(batch.messages.length, 3);

    // Another client with the same id takes the session over: the broker drops ours. It
    // never acknowledges what the broker sends it, so the messages stay in the session.
    const intruder = await connectAsync(MQTT_URL, {
      clientId,
      clean: false,
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 3600 },
      customHandleAcks: () => undefined,
    });
    await assert.rejects(iterator.next(), (error: unknown) => errorKind(error) === "transient" && /lost the connection/.test(String(error)));
    await batch.ack(); // too late: the acknowledgement would name packets of the old connection
    await intruder.endAsync(true);

    const batches = await takeMessages(fx.source(connection, { topics: [topic] }), 3);
    assert.deepEqual(ns(batches), [1, 2, 3]);
  });

  test("shared subscription: two consumers in one group split the messages, none twice", async () => {
    const topic = fx.topic("shared");
    const group = `g${process.pid}`;
    const a = await fx.connect();
    const b = await fx.connect();
    const total = 200;
    const seen: Array<{ consumer: string; n: number }> = [];
    const stop = new AbortController();
    const consume = async (name: string, connection: typeof a) => {
      const source = fx.source(connection, { topics: [topic], shared_group: group });
      try {
        for await (const batch of source.batches(stop.signal)) {
          for (const m of batch.messages) seen.push({ consumer: name, n: (m.payload as { n: number }).n });
          await batch.ack();
          if (seen.length >= total) stop.abort();
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
    };
    const consumers = [consume("a", a), consume("b", b)];
    await new Promise((r) => setTimeout(r, 400));
    await fx.publish(topic, numbered(1, total));
    const timer = setTimeout(() => stop.abort(), 10_000);
    await Promise.all(consumers);
    clearTimeout(timer);
    const ids = seen.map((s) => s.n).sort((x, y) => x - y);
    assert.deepEqual(ids, numbered(1, total).map((p) => p.n), "every message exactly once over both consumers");
    const byA = seen.filter((s) => s.consumer === "a").length;
    assert.ok(byA > 0 && byA < total, `both consumers got a share (a: ${byA}, b: ${total - byA})`);
  });

  test("QoS 0 works with at_most_once; a clean session source without at_most_once is refused", async () => {
    const topic = fx.topic("qos0");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic], qos: 0, at_most_once: true });
    const batches = await takeMessagesAfter(source, () => fx.publish(topic, numbered(1, 3), { qos: 0 }), 3);
    assert.deepEqual(ns(batches), [1, 2, 3]);
    assert.ok(messagesOf(batches).every((m) => m.metadata.qos === 0));

    const clean = await fx.connect({ clean: true });
    assert.throws(
      () => fx.source(clean, { topics: [topic] }),
      (error: unknown) => errorKind(error) === "config" && /clean: true/.test(String(error)) && /at_most_once/.test(String(error)),
    );
    const expiring = await fx.connect({ session_expiry: 0 });
    assert.throws(() => fx.source(expiring, { topics: [topic] }), /session_expiry: 0/);
    assert.ok(fx.source(clean, { topics: [topic], at_most_once: true }));
  });

  test("one source per connection at a time: a second one is a configuration error naming both", async () => {
    const topic = fx.topic("owner");
    const connection = await fx.connect();
    const first = fx.source(connection, { topics: [topic] }, { integration: "first" });
    const second = fx.source(connection, { topics: [topic] }, { integration: "second" });
    const stop = new AbortController();
    const pending = first.batches(stop.signal)[Symbol.asyncIterator]().next();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(second.batches(new AbortController().signal)[Symbol.asyncIterator]().next(), (error: unknown) => errorKind(error) === "config" && /"first"/.test(String(error)));
    stop.abort();
    assert.equal((await pending).done, true, "the first source ends when its signal aborts");
    const third = fx.source(connection, { topics: [topic] }, { integration: "third" });
    assert.equal(await quietFor(third, 200), 0, "once the first one ended, another source may read the connection");
  });

  test("health: a probe without a session, then the session's own state", async () => {
    const connection = await fx.connect();
    const probe = await connection.health(AbortSignal.timeout(5000));
    assert.equal(probe.status, "healthy");
    assert.match(probe.detail ?? "", /accepts connections/);
    const topic = fx.topic("health");
    await takeMessagesAfter(fx.source(connection, { topics: [topic] }), () => fx.publish(topic, numbered(1, 1)), 1);
    const live = await connection.health(AbortSignal.timeout(5000));
    assert.equal(live.status, "healthy");
    assert.match(live.detail ?? "", /connected to 127\.0\.0\.1:1883 as jt-session/);

    const nowhere = await fx.connect({ url: "mqtt://127.0.0.1:1", connect_timeout: "500ms" });
    const down = await nowhere.health(AbortSignal.timeout(5000));
    assert.equal(down.status, "unhealthy");
    assert.match(down.detail ?? "", /cannot connect to 127\.0\.0\.1:1:/);
  });

  test("a source that cannot reach the broker fails with a transient error after connect_timeout", async () => {
    const connection = await fx.connect({ url: "mqtt://user:sekret@127.0.0.1:1", connect_timeout: "300ms" });
    const source = fx.source(connection, { topics: [fx.topic("down")] });
    await assert.rejects(source.batches(new AbortController().signal)[Symbol.asyncIterator]().next(), (error: unknown) => {
      assert.equal(errorKind(error), "transient");
      assert.match(String(error), /not connected to the MQTT broker at 127\.0\.0\.1:1 /);
      assert.doesNotMatch(String(error), /sekret/);
      return true;
    });
    const health = await connection.health(AbortSignal.timeout(2000));
    assert.equal(health.status, "unhealthy");
  });
});

/** Starts taking, publishes once the subscription is in place, and waits for `count` messages. */
async function takeMessagesAfter(source: Parameters<typeof takeMessages>[0], publish: () => Promise<void>, count: number): Promise<Batch[]> {
  const taking = takeMessages(source, count);
  await new Promise((r) => setTimeout(r, 300));
  await publish();
  return taking;
}
