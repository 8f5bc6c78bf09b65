import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../../src/core/errors.js";
import { RowFields } from "../../../src/connectors/postgres/row-fields.js";
import { jsonText, keyIdentity, payloadFields } from "../../../src/connectors/postgres/row-values.js";

function fieldsOf(payload: unknown, only?: ReadonlySet<string>): Map<string, unknown> {
  const converted = payloadFields(payload, only);
  assert.ok(converted.ok);
  return converted.fields;
}

describe("payload fields (postgres target)", () => {
  test("behave as a Map of the payload's fields in payload order, undefined values and fields outside `only` left out", () => {
    const fields = fieldsOf({ id: 1, name: "a", skipped: undefined, doc: { x: [1] }, nothing: null });
    assert.ok(fields instanceof RowFields);
    assert.equal(fields.size, 4);
    assert.deepEqual([...fields.keys()], ["id", "name", "doc", "nothing"]);
    assert.deepEqual([...fields.values()], [1, "a", { x: [1] }, null]);
    assert.deepEqual([...fields], [...new Map(Object.entries({ id: 1, name: "a", doc: { x: [1] }, nothing: null }))]);
    assert.equal(fields.get("name"), "a");
    assert.equal(fields.get("skipped"), undefined);
    assert.equal(fields.has("nothing"), true);
    assert.equal(fields.has("skipped"), false);
    const seen: string[] = [];
    fields.forEach((value, name, map) => {
      assert.equal(map, fields);
      seen.push(`${name}=${JSON.stringify(value)}`);
    });
    assert.deepEqual(seen, ["id=1", 'name="a"', 'doc={"x":[1]}', "nothing=null"]);
    assert.deepEqual([...fieldsOf({ id: 1, name: "a", other: 2 }, new Set(["id", "other"])).keys()], ["id", "other"]);
  });

  test("rows of one shape share it; changing one row changes no other", () => {
    const first = fieldsOf({ id: 1, name: "a" }) as RowFields;
    const second = fieldsOf({ id: 2, name: "b" }) as RowFields;
    assert.equal(first.shape, second.shape);
    assert.equal(first.delete("name"), true);
    first.set("extra", true);
    assert.deepEqual([...first], [
      ["id", 1],
      ["extra", true],
    ]);
    assert.equal(first.valuesInShapeOrder, undefined);
    assert.deepEqual([...second], [
      ["id", 2],
      ["name", "b"],
    ]);
    second.clear();
    assert.equal(second.size, 0);
    assert.deepEqual([...fieldsOf({ id: 3, name: "c" })], [
      ["id", 3],
      ["name", "c"],
    ]);
  });

  test("a payload that is no object, has no field or a field name that is no identifier fails permanently", () => {
    for (const payload of [null, "text", [1], Buffer.from("x"), {}, { id: undefined }, { id: 1, "bad name": 2 }]) {
      const converted = payloadFields(payload, undefined);
      assert.equal(converted.ok, false, JSON.stringify(payload));
      assert.ok(!converted.ok && converted.error instanceof JunctionError && converted.error.kind === "permanent");
    }
    const converted = payloadFields({ ok: 1, "first bad": 2, "second bad": 3 }, undefined);
    assert.ok(!converted.ok && /"first bad"/.test(converted.error.message));
  });

  test("jsonText writes bigints as strings and everything else as JSON.stringify does", () => {
    assert.equal(jsonText({ a: 1n, b: [2n, "x"] }), '{"a":"1","b":["2","x"]}');
    assert.equal(jsonText({ a: 1, b: "q\"uote" }), JSON.stringify({ a: 1, b: 'q"uote' }));
    assert.throws(() => jsonText((() => { const loop: Record<string, unknown> = {}; loop.self = loop; return loop; })()), TypeError);
  });

  test("keyIdentity tells one-column and several-column keys apart as JSON did", () => {
    assert.equal(keyIdentity(["7"]), "7");
    assert.equal(keyIdentity(["a", "b"]), '["a","b"]');
    assert.notEqual(keyIdentity(["a,b"]), keyIdentity(["a", "b"]));
  });
});
