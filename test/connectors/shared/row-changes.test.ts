import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { planRowChanges } from "../../../src/connectors/shared/collapse-by-key.js";
import type { RowChangeOptions } from "../../../src/connectors/shared/collapse-by-key.js";
import { isSoftDeleted } from "../../../src/connectors/shared/soft-delete.js";
import { replaceTableNames } from "../../../src/connectors/shared/staging-table-name.js";
import { isSqlIdentifier } from "../../../src/connectors/shared/sql-identifier.js";
import type { JunctionError } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";

const merge: RowChangeOptions = { keys: ["tenant", "id"], mode: "merge", appliesDeletes: true, what: "test target t", system: "test" };

function write(payload: unknown): Message {
  return createMessage({ payload });
}

function remove(payload: unknown): Message {
  return createMessage({ payload, metadata: { operation: "delete" } });
}

describe("planRowChanges", () => {
  test("without any delete nothing is skipped, whatever the mode", () => {
    const plan = planRowChanges([write({ tenant: "a", id: 1 }), write({ tenant: "a", id: 1 })], merge);
    assert.deepEqual([...plan.skipped], []);
    assert.deepEqual(plan.deletes, []);
    assert.deepEqual(plan.failures, []);
  });

  test("merge collapses per key, the last message winning", () => {
    const plan = planRowChanges(
      [
        write({ tenant: "a", id: 1, v: 1 }), // 0: superseded by the delete at 1
        remove({ tenant: "a", id: 1 }), // 1: delete
        remove({ tenant: "a", id: 2 }), // 2: superseded by the write at 3
        write({ tenant: "a", id: 2, v: 2 }), // 3: written
        remove({ tenant: "b", id: 1 }), // 4: superseded by the delete at 5 (same key as text)
        remove({ tenant: "b", id: "1" }), // 5: delete
        write({ id: 9 }), // 6: no key, left to the sink
      ],
      merge,
    );
    assert.deepEqual([...plan.skipped].sort(), [0, 1, 2, 4, 5]);
    assert.deepEqual(plan.deletes, [
      { index: 1, values: ["a", 1] },
      { index: 5, values: ["b", "1"] },
    ]);
    assert.deepEqual(plan.failures, []);
  });

  test("a delete without its key fails permanently and never supersedes anything", () => {
    const plan = planRowChanges([write({ tenant: "a", id: 1 }), remove({ tenant: "a" }), remove("not an object")], merge);
    assert.deepEqual([...plan.skipped].sort(), [1, 2]);
    assert.deepEqual(
      plan.failures.map((failure) => [failure.index, (failure.error as JunctionError).kind]),
      [
        [1, "permanent"],
        [2, "permanent"],
      ],
    );
    assert.match((plan.failures[0]?.error as Error).message, /a delete needs the key \(tenant, id\) in its payload to find the row, but id is missing/);
  });

  test("modes that do not delete fail every delete and keep the other messages", () => {
    const plan = planRowChanges([write({ tenant: "a", id: 1 }), remove({ tenant: "a", id: 1 })], { ...merge, mode: "upsert", appliesDeletes: false });
    assert.deepEqual([...plan.skipped], [1]);
    assert.deepEqual(plan.deletes, []);
    assert.match((plan.failures[0]?.error as Error).message, /^test target t: mode upsert does not delete rows; set mode: merge to apply deletes$/);
    const replace = planRowChanges([remove({ line: "x" })], { ...merge, keys: [], mode: "replace", appliesDeletes: false });
    assert.match((replace.failures[0]?.error as Error).message, /mode replace does not delete rows; set key/);
  });
});

describe("isSoftDeleted", () => {
  test("NULL, false and 0 are live rows; a timestamp, true, 1 or text mark a deleted one", () => {
    assert.deepEqual([null, undefined, false, 0, 0n].map(isSoftDeleted), [false, false, false, false, false]);
    assert.deepEqual(["2024-01-01T00:00:00Z", true, 1, "yes"].map(isSoftDeleted), [true, true, true, true]);
  });
});

describe("replaceTableNames", () => {
  test("short names get the suffixes; long ones are cut to the limit with a hash that tells them apart", () => {
    assert.deepEqual(replaceTableNames("users", 63), { staging: "users__junction_staging", old: "users__junction_old" });
    const long = `${"a".repeat(60)}_one`;
    const other = `${"a".repeat(60)}_two`;
    const names = replaceTableNames(long, 63);
    assert.ok(names.staging.length <= 63 && names.old.length <= 63);
    assert.ok(isSqlIdentifier(names.staging) && names.staging.endsWith("__junction_staging"));
    assert.notEqual(names.staging, replaceTableNames(other, 63).staging);
    assert.throws(() => replaceTableNames('bad"name', 63), /not a valid SQL identifier/);
  });
});
