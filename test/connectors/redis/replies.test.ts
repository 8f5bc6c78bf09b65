// The parts of the redis connector that need no server: reply shapes and error kinds.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { redisError } from "../../../src/connectors/redis/redis-errors.js";
import { autoClaimReply, deliveryCounts, readGroupEntries } from "../../../src/connectors/redis/stream-replies.js";
import { errorKind } from "../../../src/core/errors.js";

function replyError(message: string): Error {
  const error = new Error(message);
  error.name = "ReplyError";
  return error;
}

describe("redis replies and errors", () => {
  test("XREADGROUP replies read the same in RESP2 and RESP3 (legacy mapping); nil entries are kept as null", () => {
    const entries = [
      ["1-0", ["data", "{}"]],
      ["2-0", null],
    ];
    const expected = [
      { id: "1-0", fields: ["data", "{}"] },
      { id: "2-0", fields: null },
    ];
    assert.deepEqual(readGroupEntries([["s", entries]]), expected);
    assert.deepEqual(readGroupEntries(["s", entries]), expected);
    assert.deepEqual(readGroupEntries(null), []);
    assert.deepEqual(readGroupEntries(["s", []]), []);
  });

  test("XAUTOCLAIM and XPENDING replies", () => {
    assert.deepEqual(autoClaimReply(["5-0", [["3-0", ["data", "1"]]], ["4-0"]]), { cursor: "5-0", entries: [{ id: "3-0", fields: ["data", "1"] }], deleted: ["4-0"] });
    assert.deepEqual(autoClaimReply(["0-0", [], []]).cursor, "0-0");
    assert.deepEqual([...deliveryCounts([["1-0", "c1", 100, 3], ["2-0", "c2", 5, "1"]])], [["1-0", 3], ["2-0", 1]]);
  });

  test("error kinds: lost connections and passing conditions are transient, other replies permanent, refused credentials auth", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    assert.equal(errorKind(redisError(refused, "reading")), "transient");
    assert.equal(errorKind(redisError(new Error("Reached the max retries per request limit (which is 2)."), "reading")), "transient");
    assert.equal(errorKind(redisError(new Error("Connection is closed."), "reading")), "transient");
    assert.equal(errorKind(redisError(replyError("LOADING Redis is loading the dataset in memory"), "reading")), "transient");
    assert.equal(errorKind(redisError(replyError("READONLY You can't write against a read only replica."), "adding")), "transient");
    assert.equal(errorKind(redisError(replyError("NOGROUP No such key 's' or consumer group 'g'"), "reading")), "transient");
    const wrongType = redisError(replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), "adding message m1 to the stream");
    assert.equal(errorKind(wrongType), "permanent");
    assert.match(wrongType.message, /^adding message m1 to the stream: WRONGTYPE/);
    assert.equal(errorKind(redisError(replyError("WRONGPASS invalid username-password pair"), "connecting")), "auth");
  });
});
