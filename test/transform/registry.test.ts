import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import { parse } from "yaml";
import { findTransform, transformSpecs } from "../../src/transform/registry.js";

describe("transform registry", () => {
  test("names are unique and found by name", () => {
    const names = transformSpecs.map((spec) => spec.name);
    assert.deepEqual(names, ["map", "filter", "select", "rename", "set", "validate", "call"]);
    for (const spec of transformSpecs) assert.equal(findTransform(spec.name), spec);
    assert.equal(findTransform("nope"), undefined);
  });

  for (const spec of transformSpecs) {
    test(`${spec.name}: documented, and its example is a valid step`, () => {
      assert.ok(spec.summary.length > 20, "summary");
      assert.ok((spec.schema.description ?? "").length > 20, "schema description");
      const parsed: unknown = parse(spec.example);
      assert.ok(Array.isArray(parsed) && parsed.length === 1, "the example is one list item");
      const step = parsed[0] as Record<string, unknown>;
      assert.deepEqual(Object.keys(step), [spec.name]);
      const value = step[spec.name];
      assert.ok(Value.Check(spec.schema, value), `example matches the schema: ${JSON.stringify([...Value.Errors(spec.schema, value)].map((e) => e.message))}`);
      assert.deepEqual(spec.check?.(value) ?? [], []);
      assert.equal(spec.build(value, { baseDir: process.cwd() }).name, spec.name);
    });
  }
});
