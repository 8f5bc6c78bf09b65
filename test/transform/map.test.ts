import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mapTransform } from "../../src/transform/map.js";
import { applyStep, assertConfigError, assertStepFails, buildStep, frozenMessage } from "./transform-assertions.js";

describe("map", () => {
  test("replaces the payload with the expression's result and keeps the envelope", async () => {
    const map = buildStep("map", '{ "id": id, "email": $lowercase(email), "name": first & " " & last }');
    const input = frozenMessage({ id: 7, email: "Ann@Example.COM", first: "Ann", last: "Lee", extra: true }, { key: "k7", attempt: 2 });
    const output = await applyStep(map, input);
    assert.ok(output);
    assert.deepEqual(output.payload, { id: 7, email: "ann@example.com", name: "Ann Lee" });
    assert.equal(output.id, input.id);
    assert.equal(output.key, "k7");
    assert.equal(output.attempt, 2);
    assert.equal(output.correlationId, input.correlationId);
    assert.notEqual(output, input);
    assert.deepEqual(input.payload, { id: 7, email: "Ann@Example.COM", first: "Ann", last: "Lee", extra: true });
  });

  test("accepts { expression } and binds $message", async () => {
    const map = buildStep("map", {
      expression: '{ "mid": $message.id, "key": $message.key, "tenant": $message.headers.tenant, "source": $message.metadata.source, "corr": $message.correlation_id }',
    });
    const input = frozenMessage({}, { id: "m-1", key: "order-9", headers: { tenant: "acme" }, metadata: { source: "crm" }, correlationId: "c-1" });
    const output = await applyStep(map, input);
    assert.deepEqual(output?.payload, { mid: "m-1", key: "order-9", tenant: "acme", source: "crm", corr: "c-1" });
  });

  test("results are plain data: ordinary prototypes and arrays without JSONata's sequence flags", async () => {
    const map = buildStep("map", '{ "names": items.name, "first": items[0], "pairs": items.{ "n": name } }');
    const output = await applyStep(map, frozenMessage({ items: [{ name: "a" }, { name: "b" }] }));
    const payload = output?.payload as { names: unknown[]; pairs: object[] };
    assert.deepStrictEqual(payload, { names: ["a", "b"], first: { name: "a" }, pairs: [{ n: "a" }, { n: "b" }] });
    assert.equal(Object.getPrototypeOf(payload), Object.prototype);
    assert.deepEqual(Object.keys(payload.names), ["0", "1"]);
  });

  test("an array payload is the input as a whole", async () => {
    const map = buildStep("map", "$count($)");
    const output = await applyStep(map, frozenMessage([1, 2, 3]));
    assert.equal(output?.payload, 3);
  });

  test("an evaluation error is permanent and names the position", async () => {
    const map = buildStep("map", 'amount + "x"');
    await assertStepFails(map, frozenMessage({ amount: 1 }), "transform.map_failed", /^map: expression failed at position \d+: The right side of the "\+" operator must evaluate to a number$/);
  });

  test("$error() in the expression becomes the reason", async () => {
    const map = buildStep("map", 'amount > 0 ? amount : $error("amount must be positive")');
    await assertStepFails(map, frozenMessage({ amount: -5 }), "transform.map_failed", /^map: expression failed at position \d+: amount must be positive$/);
  });

  test("no result is a permanent error", async () => {
    const map = buildStep("map", "missing.field");
    await assertStepFails(map, frozenMessage({ other: 1 }), "transform.map_failed", /^map: map produced no value/);
  });

  test("check reports JSONata syntax errors with their position", () => {
    assert.deepEqual(mapTransform.check?.('{ "id": id, }'), [{ path: [], message: 'invalid JSONata at position 13: The symbol "}" cannot be used as a unary operator' }]);
    assert.deepEqual(mapTransform.check?.({ expression: "a +" }), [{ path: ["expression"], message: "invalid JSONata at position 3: Unexpected end of expression" }]);
    assert.deepEqual(mapTransform.check?.("$sum(items.price)"), []);
  });

  test("building a step with a bad expression is a config error", () => {
    assertConfigError(() => buildStep("map", "(a"), /^transforms\[0\] \(map\): invalid JSONata at position \d+: /);
    // The spec's own build also refuses it, for callers that skip check.
    assertConfigError(() => mapTransform.build("(a", { baseDir: "." }), /^map: invalid JSONata at position \d+: /);
  });
});
