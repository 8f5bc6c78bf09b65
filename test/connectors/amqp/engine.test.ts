// @needs-service rabbitmq
// The amqp source driven by the engine's runner: a message failing transiently is handed
// back to its queue until max_deliveries, then dead-lettered into the dead-letter exchange
// with its error, while the other messages flow.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Connection, Source } from "../../../src/connectors/types.js";
import { transientError } from "../../../src/core/errors.js";
import { openStateStore } from "../../../src/state/open.js";
import type { StateStore } from "../../../src/state/types.js";
import { RecordingSink, runContinuouslyUntil } from "../../support/engine-fixtures.js";
import { serviceSkipReason } from "../../support/services.js";
import { RawRabbit, connectAmqp, sourceContext, uniqueName } from "./amqp-fixtures.js";

const POISON = 7;

describe("amqp source in the engine", { skip: await serviceSkipReason("rabbitmq") }, () => {
  let raw: RawRabbit;
  let state: StateStore;
  const connections: Connection[] = [];

  before(async () => {
    raw = await RawRabbit.open();
    state = await openStateStore("sqlite::memory:");
  });
  after(async () => {
    for (const connection of connections) await connection.close();
    await raw.cleanup();
    await state.close();
  });

  test("a poison message is handed back until max_deliveries, then goes to the dead-letter exchange with the error; the others flow", async () => {
    const queue = uniqueName("pay");
    const dlx = uniqueName("pay.dlx");
    const dead = uniqueName("pay.dead");
    raw.track(queue, dead);
    raw.trackExchange(dlx);
    const connection = await connectAmqp({
      exchanges: [{ name: dlx, type: "fanout" }],
      queues: [{ name: queue, dead_letter_exchange: dlx }, { name: dead }],
      bindings: [{ exchange: dlx, queue: dead }],
    });
    connections.push(connection);
    await connection.health(new AbortController().signal);
    for (let n = 1; n <= 30; n++) raw.channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n })), { persistent: true, messageId: `pay-${n}` });
    await raw.confirmed();

    const sink = new RecordingSink((message) => ((message.payload as { n: number }).n === POISON ? transientError("the payment API keeps timing out") : undefined));
    const source = connection.source?.({ queue, max_deliveries: 3 }, sourceContext({ follow: true, batchSize: 10 })) as Source;
    const summary = await runContinuouslyUntil("amqp-poison", source, sink, state, async () => (await raw.count(dead)) === 1 && sink.accepted.size === 29);

    assert.equal(sink.accepted.size, 29, "every other message was written");
    assert.equal(sink.calls.flat().filter((id) => id === `pay-${POISON}`).length, 9, "3 deliveries × 3 in-process attempts");
    const [letter, extra] = await raw.drain(dead);
    assert.equal(extra, undefined);
    const headers = letter?.properties.headers as Record<string, unknown>;
    assert.equal(String(headers["x-junction-error"]), "the payment API keeps timing out");
    assert.equal(String(headers["x-junction-error-kind"]), "transient");
    assert.equal(Number(headers["x-junction-attempts"]), 3);
    assert.equal(Number(headers["x-junction-deliveries"]), 3);
    assert.deepEqual(JSON.parse(letter?.content.toString() ?? ""), { n: POISON });
    assert.deepEqual(await state.listDeadLetters({ integration: "amqp-poison" }), [], "the broker holds the dead letter, not the state store");
    assert.equal(summary.run.counts.deadLettered, 1);
    assert.equal(await raw.count(queue), 0, "nothing left unacknowledged");
  });

  test("without a dead-letter exchange a permanent failure goes to the state store's dead letters and is acknowledged", async () => {
    const queue = uniqueName("plain");
    raw.track(queue);
    const connection = await connectAmqp({ queues: [{ name: queue }] });
    connections.push(connection);
    await connection.health(new AbortController().signal);
    for (let n = 1; n <= 10; n++) raw.channel.sendToQueue(queue, Buffer.from(n === 4 ? "{broken" : JSON.stringify({ n })), { persistent: true });
    await raw.confirmed();
    const sink = new RecordingSink();
    const source = connection.source?.({ queue }, sourceContext({ follow: true, batchSize: 5 })) as Source;
    await runContinuouslyUntil("amqp-store", source, sink, state, async () => sink.accepted.size === 9 && (await state.listDeadLetters({ integration: "amqp-store" })).length === 1);
    const [letter] = await state.listDeadLetters({ integration: "amqp-store" });
    assert.equal(letter?.stage, "source");
    assert.match(letter?.error.message ?? "", /could not decode the message body/);
    assert.equal(letter?.message.payload, "{broken");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await raw.count(queue), 0, "acknowledged after the dead letter was stored");
  });
});
