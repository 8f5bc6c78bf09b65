import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { toPlainData } from "../../src/transform/jsonata-result.js";

describe("toPlainData", () => {
  test("rebuilds null-prototype objects and flagged arrays as plain data", () => {
    const object = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const sequence = Object.assign([1, 2], { sequence: true });
    const plain = toPlainData({ object, sequence }) as { object: object; sequence: unknown[] };
    assert.deepStrictEqual(plain, { object: { a: 1 }, sequence: [1, 2] });
    assert.equal(Object.getPrototypeOf(plain.object), Object.prototype);
    assert.deepEqual(Object.keys(plain.sequence), ["0", "1"]);
    assert.deepEqual(Object.keys(sequence), ["0", "1", "sequence"], "the original is left as it is");
  });

  test("drops functions like JSON does", () => {
    assert.deepStrictEqual(toPlainData({ f: () => 1, a: 1, list: [() => 2, 3] }), { a: 1, list: [null, 3] });
    assert.equal(toPlainData(() => 1), undefined);
  });

  test("shares parts that need no change and keeps non-plain values", () => {
    const inner = { deep: { x: 1 } };
    const date = new Date(0);
    const input = { inner, date, list: [inner] };
    assert.equal(toPlainData(input), input);
    const wrapped = Object.assign(Object.create(null) as Record<string, unknown>, { inner, date });
    const plain = toPlainData(wrapped) as { inner: unknown; date: unknown };
    assert.equal(plain.inner, inner);
    assert.equal(plain.date, date);
  });

  test("a __proto__ key stays an ordinary field", () => {
    const object = Object.create(null) as Record<string, unknown>;
    object["__proto__"] = { polluted: true };
    const plain = toPlainData(object) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(plain), Object.prototype);
    assert.deepEqual(Object.keys(plain), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});
