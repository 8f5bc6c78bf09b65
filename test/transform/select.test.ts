import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectTransform } from "../../src/transform/select.js";
import { applyStep, assertStepFails, buildStep, frozenMessage, issueMessages } from "./transform-assertions.js";

describe("select", () => {
  test("keeps only the listed fields, in the listed order, and skips missing ones", async () => {
    const select = buildStep("select", ["name", "id", "missing"]);
    const input = frozenMessage({ id: 1, name: "Ann", password: "secret" });
    const output = await applyStep(select, input);
    assert.deepEqual(output?.payload, { name: "Ann", id: 1 });
    assert.deepEqual(Object.keys(output?.payload as object), ["name", "id"]);
    assert.equal(output?.id, input.id);
  });

  test("dotted paths copy nested fields", async () => {
    const select = buildStep("select", ["id", "address.city", "address.geo.lat", "profile.missing"]);
    const input = frozenMessage({ id: 1, address: { city: "Oslo", street: "x", geo: { lat: 59.9, lon: 10.7 } }, profile: { bio: "…" } });
    const output = await applyStep(select, input);
    assert.deepEqual(output?.payload, { id: 1, address: { city: "Oslo", geo: { lat: 59.9 } } });
  });

  test("a path through a non-object is skipped", async () => {
    const select = buildStep("select", ["address.city"]);
    assert.deepEqual((await applyStep(select, frozenMessage({ address: "Oslo" })))?.payload, {});
  });

  test("fields inherited from Object.prototype are not selected", async () => {
    const select = buildStep("select", ["constructor", "toString"]);
    assert.deepEqual((await applyStep(select, frozenMessage({ id: 1 })))?.payload, {});
  });

  test("a payload that is not an object is a permanent error", async () => {
    const select = buildStep("select", ["id"]);
    await assertStepFails(select, frozenMessage([{ id: 1 }]), "transform.select_failed", /^select: the payload is an array; select needs an object/);
    await assertStepFails(select, frozenMessage("text"), "transform.select_failed", /^select: the payload is a string/);
  });

  test("check reports empty path segments and duplicates", () => {
    assert.deepEqual(issueMessages(selectTransform.check?.(["a..b", "id", "id"]) ?? []), [
      '[0] "a..b" is not a valid field path: use names separated by single dots, e.g. "address.city"',
      '[2] "id" is listed twice; remove one',
    ]);
  });
});
