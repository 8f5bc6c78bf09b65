import { test } from "node:test";
import assert from "node:assert/strict";
import { discardConnector } from "../../../src/connectors/discard/index.js";
import type { Connection } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import { runtimeContext, sinkContext } from "../connector-context.js";

test("discard accepts everything and reports the count in its health detail", async () => {
  const connection: Connection<unknown, Record<string, never>> = await discardConnector.connect({}, runtimeContext(process.cwd()));
  const sink = connection.sink?.({}, sinkContext);
  const signal = new AbortController().signal;
  assert.deepEqual(await sink?.write([createMessage({ payload: 1 }), createMessage({ payload: "x" })], signal), { failures: [] });
  assert.deepEqual(await sink?.write([createMessage({ payload: null })], signal), { failures: [] });
  const health = await connection.health(signal);
  assert.equal(health.status, "healthy");
  assert.equal(health.detail, "discarded 3 messages in 2 batches");
  await connection.close();
});
