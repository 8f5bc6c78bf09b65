import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { approximateSize, createVerbatimMessage, toStoredMessage, withAttempt, withPayload } from "../../src/core/message.js";
import type { VerbatimRow } from "../../src/core/message.js";
import { SizeEstimator } from "../../src/engine/size-estimator.js";

const COLUMNS = { names: ["id", "name"], types: ["bigint", "text"] };

function lazyMessage(text = "1\tAda"): { message: ReturnType<typeof createVerbatimMessage<{ id: number; name: string }>>; decodes: () => number } {
  let decodes = 0;
  const verbatim: VerbatimRow = { format: "test-text", columns: COLUMNS, text };
  const message = createVerbatimMessage({ id: "m1", headers: {}, metadata: { table: "t" }, correlationId: "m1", key: "1", position: ["1"] }, verbatim, (row) => {
    decodes++;
    const [id, name] = row.text.split("\t");
    return { id: Number(id), name: name as string };
  });
  return { message, decodes: () => decodes };
}

describe("createVerbatimMessage", () => {
  test("the payload is decoded once, on first read, and the verbatim row is gone from then on", () => {
    const { message, decodes } = lazyMessage();
    assert.equal(message.verbatim?.text, "1\tAda");
    assert.equal(decodes(), 0);
    assert.deepEqual(message.payload, { id: 1, name: "Ada" });
    assert.equal(message.payload, message.payload);
    assert.equal(decodes(), 1);
    assert.equal(message.verbatim, undefined);
    assert.equal(message.key, "1");
    assert.deepEqual(message.position, ["1"]);
    assert.equal(message.attempt, 1);
  });

  test("assigning a payload drops the verbatim row without decoding", () => {
    const { message, decodes } = lazyMessage();
    message.payload = { id: 2, name: "Grace" };
    assert.equal(message.verbatim, undefined);
    assert.deepEqual(message.payload, { id: 2, name: "Grace" });
    assert.equal(decodes(), 0);
  });

  test("withAttempt keeps an undecoded message undecoded; once read, the payload is an own property that spreads and JSON see", () => {
    const { message, decodes } = lazyMessage();
    const retried = withAttempt(message, 2);
    assert.equal(retried.attempt, 2);
    assert.equal(message.attempt, 1);
    assert.equal(retried.verbatim?.text, "1\tAda");
    assert.equal(retried.key, "1");
    assert.equal(decodes(), 0);
    assert.deepEqual(retried.payload, { id: 1, name: "Ada" });
    const spread = { ...retried, attempt: 3 };
    assert.deepEqual(spread.payload, { id: 1, name: "Ada" });
    assert.equal(spread.verbatim, undefined);
    assert.deepEqual(withAttempt(retried, 4).payload, { id: 1, name: "Ada" });
    assert.equal(JSON.parse(JSON.stringify(lazyMessage().message)).payload.name, "Ada");
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(lazyMessage().message))).sort(), ["attempt", "correlationId", "headers", "id", "key", "metadata", "payload", "position"]);
  });

  test("withPayload and a stored copy carry the payload and never a verbatim row", () => {
    const replaced = withPayload(lazyMessage().message, { other: true });
    assert.deepEqual(replaced.payload, { other: true });
    assert.equal(replaced.verbatim, undefined);

    const plainWithVerbatim = { ...lazyMessage().message, verbatim: { format: "x", columns: COLUMNS, text: "stale" } };
    assert.equal(withPayload(plainWithVerbatim, 1).verbatim, undefined);

    const stored = toStoredMessage(lazyMessage().message);
    assert.deepEqual(JSON.parse(JSON.stringify(stored)).payload, { id: 1, name: "Ada" });
  });

  test("sizes come from the verbatim text, without decoding the payload", () => {
    const { message, decodes } = lazyMessage("1\tAda Lovelace");
    assert.equal(approximateSize(message), "1\tAda Lovelace".length);
    const estimator = new SizeEstimator(1, 1);
    for (let at = 0; at < 5; at++) assert.equal(estimator.estimate(message), "1\tAda Lovelace".length);
    assert.equal(decodes(), 0);
    assert.notEqual(message.verbatim, undefined);
  });
});
