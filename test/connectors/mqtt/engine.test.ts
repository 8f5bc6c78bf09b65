// @needs-service mqtt
// The mqtt source driven by the engine's runner: MQTT has no negative acknowledgement, so a
// message that fails for good goes to the state store's dead letters and is acknowledged
// with its batch; nothing comes back after a reconnect. Undecodable bodies go straight to
// the dead letters, and a relay carries ids, correlation ids and trace context.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { permanentError, transientError } from "../../../src/core/errors.js";
import { openStateStore } from "../../../src/state/open.js";
import type { StateStore } from "../../../src/state/types.js";
import { RecordingSink, runContinuouslyUntil, testRunner } from "../../support/engine-fixtures.js";
import { serviceSkipReason } from "../../support/services.js";
import { MqttFixture, quietFor } from "./mqtt-fixture.js";

const TRACEPARENT = `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`;

describe("mqtt source in the engine", { skip: await serviceSkipReason("mqtt") }, () => {
  const fx = new MqttFixture("engine");
  let state: StateStore;

  before(async () => {
    state = await openStateStore("sqlite::memory:");
  });
  after(async () => {
    await fx.tearDown();
    await state.close();
  });

  test("a message that fails for good is dead-lettered in the state store and acknowledged; the rest is written; nothing comes again", async () => {
    const topic = fx.topic("poison");
    const clientId = fx.clientId("poison");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, Array.from({ length: 30 }, (_, i) => ({ n: i + 1 })));
    const sink = new RecordingSink((message) => {
      const n = (message.payload as { n: number }).n;
      if (n === 7) return transientError("the payment API keeps timing out");
      if (n === 13) return permanentError("amount is not a number");
      return undefined;
    });
    const connection = await fx.connect({ client_id: clientId });
    const source = fx.source(connection, { topics: [topic] }, { follow: true, batchSize: 10, integration: "poison" });
    const summary = await runContinuouslyUntil("poison", source, sink, state, async () => sink.accepted.size === 28 && (await state.listDeadLetters({ integration: "poison" })).length === 2);

    assert.equal(summary.run.counts.deadLettered, 2);
    const letters = await state.listDeadLetters({ integration: "poison" });
    const byN = new Map(letters.map((l) => [(l.message.payload as { n: number }).n, l]));
    assert.match(byN.get(7)?.error.message ?? "", /keeps timing out/);
    assert.equal(byN.get(7)?.attempts, 3, "retried in process, then dead-lettered: MQTT cannot hand a message back");
    assert.equal(byN.get(13)?.error.kind, "permanent");
    assert.equal(byN.get(13)?.message.metadata.topic, topic);
    await connection.close();

    const again = await fx.connect({ client_id: clientId });
    assert.equal(await quietFor(fx.source(again, { topics: [topic] }), 500), 0, "every message, dead letters included, was acknowledged");
  });

  test("an undecodable body is dead-lettered as it came while the rest is written", async () => {
    const topic = fx.topic("invalid");
    const clientId = fx.clientId("invalid");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, [{ n: 1 }, "{oops", { n: 3 }]);
    const sink = new RecordingSink();
    const connection = await fx.connect({ client_id: clientId });
    const source = fx.source(connection, { topics: [topic] }, { follow: true, integration: "invalid-body" });
    await runContinuouslyUntil("invalid-body", source, sink, state, async () => sink.accepted.size === 2 && (await state.listDeadLetters({ integration: "invalid-body" })).length === 1);
    const letters = await state.listDeadLetters({ integration: "invalid-body" });
    assert.equal(letters[0]?.stage, "source");
    assert.equal(letters[0]?.message.payload, "{oops");
    assert.match(letters[0]?.error.message ?? "", /could not decode/);
  });

  test("a once run reads what the session holds, writes it and ends by itself", async () => {
    const topic = fx.topic("once");
    const clientId = fx.clientId("once");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, Array.from({ length: 45 }, (_, i) => ({ n: i + 1 })));
    const sink = new RecordingSink();
    const connection = await fx.connect({ client_id: clientId });
    const source = fx.source(connection, { topics: [topic], idle_timeout: "300ms" }, { follow: false, batchSize: 10, integration: "once" });
    const summary = await testRunner("once", source, sink, state, false).run({ trigger: "once", stop: new AbortController().signal, abort: new AbortController().signal });
    assert.equal(summary.status, "succeeded");
    assert.equal(summary.run.counts.written, 45);
    assert.equal(sink.accepted.size, 45);
  });

  test("mqtt to mqtt through the engine: ids, correlation ids and trace context carried", async () => {
    const from = fx.topic("from");
    const to = fx.topic("to");
    const clientId = fx.clientId("relay");
    await fx.createSession(clientId, from);
    const observer = await fx.observe(to);
    const publisher = await fx.raw();
    for (const i of [0, 1]) {
      await publisher.publishAsync(from, JSON.stringify({ n: i }), { qos: 1, properties: { userProperties: { "message-id": `m-${i}`, "x-correlation-id": `c-${i}`, traceparent: TRACEPARENT } } });
    }
    const source = fx.source(await fx.connect({ client_id: clientId }), { topics: [from] }, { follow: true, integration: "relay" });
    const sink = fx.sink(await fx.connect(), { topic: to }, "relay");
    await runContinuouslyUntil("relay", source, sink, state, () => observer.received.length === 2);
    assert.deepEqual(
      observer.received.map((o) => {
        const props = o.packet.properties?.userProperties as Record<string, string>;
        return [props["message-id"], props["x-correlation-id"], props.traceparent, o.payload.toString("utf8")];
      }),
      [
        ["m-0", "c-0", TRACEPARENT, '{"n":0}'],
        ["m-1", "c-1", TRACEPARENT, '{"n":1}'],
      ],
    );
  });
});
