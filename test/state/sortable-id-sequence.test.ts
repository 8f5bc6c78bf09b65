import assert from "node:assert/strict";
import { test } from "node:test";
import { SortableIdSequence } from "../../src/state/sortable-id-sequence.js";

test("ids made in the same millisecond still increase", () => {
  const sequence = new SortableIdSequence();
  const ids = Array.from({ length: 1000 }, () => sequence.next(1_700_000_000_000).id);
  assert.deepEqual(ids, [...ids].sort());
  assert.equal(new Set(ids).size, ids.length);
});

test("a clock that goes back does not break the order", () => {
  const sequence = new SortableIdSequence();
  const first = sequence.next(1_700_000_000_500);
  const second = sequence.next(1_700_000_000_000);
  assert.ok(second.id > first.id);
  assert.equal(second.time, first.time);
  const later = sequence.next(1_700_000_001_000);
  assert.ok(later.id > second.id);
  assert.equal(later.time, 1_700_000_001_000);
});
