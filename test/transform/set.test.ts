import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTransform } from "../../src/transform/set.js";
import { applyStep, assertStepFails, buildStep, frozenMessage, issueMessages } from "./transform-assertions.js";

describe("set", () => {
  test("sets literal values of every JSON type and keeps the other fields", async () => {
    const set = buildStep("set", { source: "crm", count: 2, active: true, deleted: null, tags: ["a"], meta: { v: 1 } });
    const input = frozenMessage({ id: 1, source: "old" });
    const output = await applyStep(set, input);
    assert.deepEqual(output?.payload, { id: 1, source: "crm", count: 2, active: true, deleted: null, tags: ["a"], meta: { v: 1 } });
    assert.deepEqual(input.payload, { id: 1, source: "old" });
  });

  test("without expressions it answers synchronously", () => {
    const set = buildStep("set", { a: 1 });
    const output = set.apply(frozenMessage({}));
    assert.ok(!(output instanceof Promise));
    assert.deepEqual((output as { payload: unknown }).payload, { a: 1 });
  });

  test("literal objects are shared between messages frozen, so nothing downstream can change them", async () => {
    const set = buildStep("set", { tags: ["a"] });
    const output = await applyStep(set, frozenMessage({}));
    const tags = (output?.payload as { tags: string[] }).tags;
    assert.throws(() => tags.push("b"), TypeError);
  });

  test("dotted keys set nested fields, creating objects as needed, without touching the input", async () => {
    const set = buildStep("set", { "meta.version": 2, "meta.origin.system": "crm", "address.country": "NO" });
    const input = frozenMessage({ id: 1, meta: { version: 1, keep: true } });
    const output = await applyStep(set, input);
    assert.deepEqual(output?.payload, { id: 1, meta: { version: 2, keep: true, origin: { system: "crm" } }, address: { country: "NO" } });
    assert.deepEqual(input.payload, { id: 1, meta: { version: 1, keep: true } });
  });

  test("{ jsonata } values are computed from the incoming payload", async () => {
    const set = buildStep("set", {
      full_name: { jsonata: 'first & " " & last' },
      first: "changed",
      "stats.items": { jsonata: "$count(items)" },
      message_id: { jsonata: "$message.id" },
      skipped: { jsonata: "nothing.here" },
    });
    const input = frozenMessage({ first: "Ann", last: "Lee", items: [1, 2], skipped: "kept" }, { id: "m-5" });
    const output = await applyStep(set, input);
    assert.deepEqual(output?.payload, { first: "changed", last: "Lee", items: [1, 2], skipped: "kept", full_name: "Ann Lee", stats: { items: 2 }, message_id: "m-5" });
  });

  test("a failing expression is a permanent error naming the field", async () => {
    const set = buildStep("set", { total: { jsonata: 'price * "2"' } });
    await assertStepFails(set, frozenMessage({ price: 3 }), "transform.set_failed", /^set: field "total": expression failed at position \d+: /);
  });

  test("setting inside a non-object or on a non-object payload is a permanent error", async () => {
    const set = buildStep("set", { "meta.v": 1 });
    await assertStepFails(set, frozenMessage({ meta: [1] }), "transform.set_failed", /^set: cannot set "meta.v": "meta" is an array, not an object$/);
    await assertStepFails(set, frozenMessage(42), "transform.set_failed", /^set: the payload is a number; set needs an object/);
  });

  test("check reports bad expressions with their position, bad paths and overlapping fields", () => {
    assert.deepEqual(issueMessages(setTransform.check?.({ total: { jsonata: "price *" }, "a..b": 1, meta: {}, "meta.v": 2 }) ?? []), [
      '["total","jsonata"] invalid JSONata at position 7: Unexpected end of expression',
      '["a..b"] "a..b" is not a valid field path: use names separated by single dots, e.g. "address.city"',
      '["meta.v"] "meta" and "meta.v" overlap (one lies inside the other); set only one of them',
    ]);
  });
});
