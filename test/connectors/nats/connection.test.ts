// @needs-service nats
// The nats connection against the local server: health with a round trip, streams and the
// durable consumer declared from config (idempotent across connections and reconnections,
// updated when settings change, refused clearly when JetStream cannot change them), and a
// lost connection surfacing as a transient error of the source.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createJetStreamSource } from "../../../src/connectors/nats/jetstream-source.js";
import { NatsClient } from "../../../src/connectors/nats/nats-client.js";
import { errorKind } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { silentLogger, sourceContext } from "../connector-context.js";
import { NATS_URL, NatsFixture, SourceReader, collect } from "./nats-fixture.js";

describe("nats connection", { skip: await serviceSkipReason("nats") }, () => {
  const fx = new NatsFixture("conn");

  before(() => fx.setUp());
  after(() => fx.tearDown());

  test("health: healthy with the round trip and the server version; unhealthy once closed", async () => {
    const nats = await fx.connect();
    const health = await nats.health(new AbortController().signal);
    assert.equal(health.status, "healthy");
    assert.ok(health.latencyMs >= 0);
    assert.match(health.detail ?? "", /connected to 127\.0\.0\.1:4222 \(nats-server 2\.\d+\.\d+\), JetStream enabled, round trip \d+ms/);
    await nats.close();
    assert.equal((await nats.health(new AbortController().signal)).status, "unhealthy");
  });

  test("an unreachable server fails connect as transient", async () => {
    await assert.rejects(fx.connect({ servers: "nats://127.0.0.1:1", connect_timeout: "1s" }), (error: unknown) => {
      assert.equal(errorKind(error), "transient");
      assert.match((error as Error).message, /connecting to NATS/);
      return true;
    });
  });

  test("streams are declared on connect, left alone by the next connection, updated when a setting changes", async () => {
    const name = fx.name("declared");
    const streams = [{ name, subjects: [`${name}.>`], max_age: "1h", duplicate_window: "30s", max_msgs: 1000 }];
    await fx.connect({ streams });
    const created = await fx.jsm.streams.info(name);
    assert.deepEqual(created.config.subjects, [`${name}.>`]);
    assert.equal(created.config.max_age, 3_600_000_000_000);
    assert.equal(created.config.duplicate_window, 30_000_000_000);
    assert.equal(created.config.max_msgs, 1000);
    assert.equal(created.config.storage, "file");
    await fx.publish(`${name}.a`, { n: 1 });

    await fx.connect({ streams });
    const again = await fx.jsm.streams.info(name);
    assert.equal(again.created, created.created, "not recreated");
    assert.equal(again.state.messages, 1, "messages kept");

    await fx.connect({ streams: [{ ...streams[0]!, max_msgs: 50, subjects: [`${name}.>`, `${name}_more.>`] }] });
    const updated = await fx.jsm.streams.info(name);
    assert.equal(updated.config.max_msgs, 50);
    assert.deepEqual(updated.config.subjects.sort(), [`${name}.>`, `${name}_more.>`].sort());
    assert.equal(updated.state.messages, 1);
  });

  test("a setting JetStream cannot change fails connect as a config error that says what to do", async () => {
    const name = fx.name("storage");
    await fx.connect({ streams: [{ name, storage: "file" }] });
    await assert.rejects(fx.connect({ streams: [{ name, storage: "memory" }] }), (error: unknown) => {
      assert.equal(errorKind(error), "config");
      assert.match((error as Error).message, /storage/);
      assert.match((error as Error).message, /delete it or keep the old setting/);
      return true;
    });
  });

  test("the durable consumer is created from the source options, kept across runs and updated when they change", async () => {
    const { stream, subject } = await fx.stream("consumer");
    const nats = await fx.connect();
    await fx.publish(subject("a"), { n: 1 });
    await collect(fx.source(nats, { stream, consumer: "durable", ack_wait: "20s", max_deliver: 3, filter_subject: subject("a") }, { follow: true }), 1);
    const first = await fx.consumerInfo(stream, "durable");
    assert.equal(first.config.ack_wait, 20_000_000_000);
    assert.equal(first.config.max_deliver, 3);
    assert.equal(first.config.filter_subject, subject("a"));
    assert.equal(first.config.deliver_policy, "all");
    assert.equal(first.config.ack_policy, "explicit");

    await fx.publish(subject("a"), { n: 2 });
    const second = (await collect(fx.source(nats, { stream, consumer: "durable", ack_wait: "20s", max_deliver: 3, filter_subject: subject("a") }, { follow: true }), 1))[0];
    assert.deepEqual(second?.messages.map((m) => m.payload), [{ n: 2 }], "continues where the first run stopped");
    assert.equal((await fx.consumerInfo(stream, "durable")).created, first.created);

    await fx.publish(subject("a"), { n: 3 });
    await collect(fx.source(nats, { stream, consumer: "durable", ack_wait: "45s", max_deliver: 7 }, { follow: true }), 1);
    const updated = await fx.consumerInfo(stream, "durable");
    assert.equal(updated.config.ack_wait, 45_000_000_000);
    assert.equal(updated.config.max_deliver, 7);
    assert.equal(updated.config.filter_subject ?? "", "");
    assert.equal(updated.created, first.created, "updated in place, its position kept");
    assert.equal(updated.num_pending, 0);
  });

  test("a source on a stream that does not exist fails as a config error naming it", async () => {
    const nats = await fx.connect();
    const missing = `${fx.prefix}_MISSING`;
    await assert.rejects(collect(fx.source(nats, { stream: missing }, { follow: true }), 1), (error: unknown) => {
      assert.equal(errorKind(error), "config");
      assert.match((error as Error).message, new RegExp(`stream "${missing}" does not exist`));
      return true;
    });
  });

  test("after a reconnection the streams are declared again", async () => {
    const name = fx.name("redeclared");
    const client = await NatsClient.connect({ servers: NATS_URL, streams: [{ name, subjects: [`${name}.>`] }] }, "test", silentLogger);
    try {
      await fx.jsm.streams.delete(name);
      await client.nc.reconnect();
      const deadline = Date.now() + 10_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        found = await fx.jsm.streams.info(name).then(
          () => true,
          () => false,
        );
        if (!found) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(found, "the stream is back");
    } finally {
      await client.close();
    }
  });

  test("a lost connection ends the source's run with a transient error; the next run reads on", async () => {
    const { stream, subject } = await fx.stream("lost");
    const nats = await fx.connect();
    await fx.publish(subject(), { n: 1 });
    // The connector keeps its client private: drive the source with a client of the test's own, then force it to reconnect.
    const client = await NatsClient.connect({ servers: NATS_URL }, "lost", silentLogger);
    try {
      const reader = new SourceReader(createJetStreamSource(client, stream, { stream, consumer: "lost" }, sourceContext({ follow: true })));
      const batch = await reader.next();
      const pending = reader.next(10_000);
      await client.nc.reconnect();
      await assert.rejects(pending, (error: unknown) => {
        assert.equal(errorKind(error), "transient");
        assert.match((error as Error).message, /lost the connection to NATS/);
        return true;
      });
      while (!client.connected) await new Promise((resolve) => setTimeout(resolve, 50));
      await batch.nack(new Error("run failed"), true);
      await reader.close();
      const again = await collect(fx.source(nats, { stream, consumer: "lost" }, { follow: true }), 1);
      assert.deepEqual(again[0]?.messages[0]?.payload, { n: 1 });
    } finally {
      await client.close();
    }
  });
});
