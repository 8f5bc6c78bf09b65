import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renameTransform } from "../../src/transform/rename.js";
import { applyStep, assertStepFails, buildStep, frozenMessage, issueMessages } from "./transform-assertions.js";

describe("rename", () => {
  test("renames fields in place, keeping their position", async () => {
    const rename = buildStep("rename", { mail: "email", uid: "id" });
    const input = frozenMessage({ uid: 1, name: "Ann", mail: "a@x.io" });
    const output = await applyStep(rename, input);
    assert.deepEqual(output?.payload, { id: 1, name: "Ann", email: "a@x.io" });
    assert.deepEqual(Object.keys(output?.payload as object), ["id", "name", "email"]);
    assert.deepEqual(input.payload, { uid: 1, name: "Ann", mail: "a@x.io" });
  });

  test("renaming a missing field does nothing", async () => {
    const rename = buildStep("rename", { mail: "email" });
    assert.deepEqual((await applyStep(rename, frozenMessage({ id: 1, email: "kept" })))?.payload, { id: 1, email: "kept" });
  });

  test("a renamed field replaces an existing field of the new name", async () => {
    const rename = buildStep("rename", { mail: "email" });
    assert.deepEqual((await applyStep(rename, frozenMessage({ email: "old", mail: "new" })))?.payload, { email: "new" });
  });

  test("renames happen at once: two fields can swap", async () => {
    const rename = buildStep("rename", { a: "b", b: "a" });
    assert.deepEqual((await applyStep(rename, frozenMessage({ a: 1, b: 2 })))?.payload, { b: 1, a: 2 });
  });

  test("dotted paths rename nested fields and move values between levels", async () => {
    const rename = buildStep("rename", { "user.first": "user.given", "user.email": "email", id: "meta.source_id" });
    const input = frozenMessage({ id: 9, user: { first: "Ann", email: "a@x.io", age: 3 }, meta: { v: 1 } });
    const output = await applyStep(rename, input);
    assert.deepEqual(output?.payload, { user: { given: "Ann", age: 3 }, meta: { v: 1, source_id: 9 }, email: "a@x.io" });
    assert.deepEqual(input.payload, { id: 9, user: { first: "Ann", email: "a@x.io", age: 3 }, meta: { v: 1 } });
  });

  test("moving into a field that is not an object is a permanent error", async () => {
    const rename = buildStep("rename", { id: "meta.id" });
    await assertStepFails(rename, frozenMessage({ id: 1, meta: "text" }), "transform.rename_failed", /^rename: cannot set "meta.id": "meta" is a string, not an object$/);
  });

  test("a payload that is not an object is a permanent error", async () => {
    const rename = buildStep("rename", { a: "b" });
    await assertStepFails(rename, frozenMessage(null), "transform.rename_failed", /^rename: the payload is null; rename needs an object/);
  });

  test("check reports two sources renamed to the same target and overlapping paths", () => {
    assert.deepEqual(issueMessages(renameTransform.check?.({ a: "x", b: "x", c: "y", "c.d": "z", e: "w", f: "w.v" }) ?? []), [
      '["b"] "a" and "b" are both renamed to "x"; rename only one of them',
      '["c.d"] "c" and "c.d" overlap (one lies inside the other); rename only one of them',
      '["f"] the targets "w" and "w.v" overlap (one lies inside the other); choose separate names',
    ]);
    assert.deepEqual(issueMessages(renameTransform.check?.({ "a.": "b" }) ?? []), ['["a."] "a." is not a valid field path: use names separated by single dots, e.g. "address.city"']);
    assert.deepEqual(renameTransform.check?.({ a: "b", b: "a" }), []);
  });
});
