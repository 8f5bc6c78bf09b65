import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { filterTransform, isJsonataTrue } from "../../src/transform/filter.js";
import { applyStep, assertStepFails, buildStep, frozenMessage } from "./transform-assertions.js";

describe("filter", () => {
  test("keeps the message unchanged when the predicate is true and drops it when false", async () => {
    const filter = buildStep("filter", 'status = "active"');
    const active = frozenMessage({ status: "active", id: 1 });
    assert.equal(await applyStep(filter, active), active);
    assert.equal(await applyStep(filter, frozenMessage({ status: "deleted" })), null);
  });

  test("no result drops the message", async () => {
    const filter = buildStep("filter", { expression: "flags.vip" });
    assert.equal(await applyStep(filter, frozenMessage({ name: "x" })), null);
    assert.ok(await applyStep(filter, frozenMessage({ flags: { vip: true } })));
  });

  test("sees $message", async () => {
    const filter = buildStep("filter", '$message.headers.source = "crm"');
    assert.ok(await applyStep(filter, frozenMessage({}, { headers: { source: "crm" } })));
    assert.equal(await applyStep(filter, frozenMessage({}, { headers: { source: "erp" } })), null);
  });

  test("truthiness follows JSONata's $boolean", () => {
    for (const value of [true, 1, -2, "x", [0, 1], { a: 1 }]) assert.equal(isJsonataTrue(value), true, JSON.stringify(value));
    for (const value of [false, 0, "", [], [0, ""], {}, null, undefined]) assert.equal(isJsonataTrue(value), false, JSON.stringify(value));
  });

  test("an evaluation error is permanent", async () => {
    const filter = buildStep("filter", "$number(code) > 3");
    await assertStepFails(filter, frozenMessage({ code: "abc" }), "transform.filter_failed", /^filter: expression failed at position \d+: /);
  });

  test("check reports syntax errors with their position", () => {
    const [issue] = filterTransform.check?.("status = ") ?? [];
    assert.match(issue?.message ?? "", /^invalid JSONata at position 9: /);
  });
});
