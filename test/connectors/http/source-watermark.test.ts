import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_BOUNDARY_IDS, PollWatermark, compareWatermarks, parseCheckpoint } from "../../../src/connectors/http/watermark.js";

describe("watermark values", () => {
  test("ISO timestamps compare by instant: offsets, fractional digits, space separator", () => {
    assert.equal(compareWatermarks("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00Z"), 1, "text order would say the opposite");
    assert.equal(compareWatermarks("2024-01-01T01:00:00+01:00", "2024-01-01T00:00:00Z"), 0);
    assert.equal(compareWatermarks("2024-01-01T01:00:00+0100", "2024-01-01T00:00:00.000Z"), 0);
    assert.equal(compareWatermarks("2024-01-01T00:00:00.000001Z", "2024-01-01T00:00:00.000002Z"), -1, "beyond milliseconds");
    assert.equal(compareWatermarks("2024-01-01 00:00:01Z", "2024-01-01T00:00:00Z"), 1);
    assert.equal(compareWatermarks("2024-01-02", "2024-01-01T23:59:59Z"), 1);
  });

  test("numbers and numeric strings by value, other strings as text", () => {
    assert.equal(compareWatermarks(10, 9), 1);
    assert.equal(compareWatermarks("10", 9), 1);
    assert.equal(compareWatermarks(1.5, "1.50"), 0);
    assert.equal(compareWatermarks("v-b", "v-a"), 1);
  });

  test("a poll skips what was delivered at the boundary and moves up to the largest value delivered", () => {
    const poll = new PollWatermark("updated_at", { field: "updated_at", watermark: "2024-01-01T00:00:02Z", seen: ["b"] });
    assert.equal(poll.requested, "2024-01-01T00:00:02Z");
    assert.equal(poll.delivered("2024-01-01T00:00:01Z", "a"), true, "below the watermark");
    assert.equal(poll.delivered("2024-01-01T00:00:02Z", "b"), true, "at it, already delivered");
    assert.equal(poll.delivered("2024-01-01T00:00:02Z", "c"), false, "at it, new");
    assert.equal(poll.advance("2024-01-01T00:00:02Z", "c"), true);
    assert.deepEqual(poll.position(), { field: "updated_at", watermark: "2024-01-01T00:00:02Z", seen: ["b", "c"] });
    assert.equal(poll.advance("2024-01-01T00:00:03Z", "d"), true);
    assert.deepEqual(poll.position(), { field: "updated_at", watermark: "2024-01-01T00:00:03Z", seen: ["d"] });
    assert.equal(poll.advance("2024-01-01T00:00:02.5Z", "e"), false, "out of order");
    assert.equal(poll.outOfOrder, true);
    assert.deepEqual(poll.position(), { field: "updated_at", watermark: "2024-01-01T00:00:03Z", seen: ["d"] });
  });

  test("the boundary ids are bounded: beyond the bound a record is delivered again, never lost", () => {
    const poll = new PollWatermark("v", undefined);
    for (let i = 0; i < MAX_BOUNDARY_IDS + 10; i++) poll.advance(7, `id${i}`);
    const position = poll.position();
    assert.equal(position?.seen.length, MAX_BOUNDARY_IDS);
    const next = new PollWatermark("v", position);
    assert.equal(next.delivered(7, "id0"), true);
    assert.equal(next.delivered(7, `id${MAX_BOUNDARY_IDS + 5}`), false, "not remembered: delivered again");
  });

  test("a stored checkpoint of another field or shape is not taken", () => {
    assert.equal(parseCheckpoint(undefined, "v"), undefined);
    assert.deepEqual(parseCheckpoint({ field: "v", watermark: 3, seen: ["a"] }, "v"), { field: "v", watermark: 3, seen: ["a"] });
    assert.equal(parseCheckpoint({ field: "other", watermark: 3, seen: [] }, "v"), "other");
    assert.equal(parseCheckpoint({ offset: 10 }, "v"), "other");
  });
});
