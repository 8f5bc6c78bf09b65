import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateConnector } from "../../../src/connectors/generate/index.js";
import type { GenerateSourceOptions } from "../../../src/connectors/generate/schema.js";
import type { Connection, Source } from "../../../src/connectors/types.js";
import { JunctionError } from "../../../src/core/errors.js";
import { drain, runtimeContext, sourceContext } from "../connector-context.js";

type GenerateConnection = Connection<GenerateSourceOptions, never>;

async function sourceFor(options: GenerateSourceOptions, ctx = sourceContext()): Promise<Source> {
  const connection = await generateConnector.connect({}, runtimeContext(process.cwd()));
  return (connection.source as NonNullable<GenerateConnection["source"]>)(options, ctx);
}

describe("generate source", () => {
  test("count and batch_size: exactly count messages with stable ids and keys", async () => {
    const batches = await drain(await sourceFor({ count: 1050, batch_size: 100 }));
    assert.deepEqual(
      batches.map((b) => b.messages.length),
      [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50],
    );
    const messages = batches.flatMap((b) => b.messages);
    assert.equal(messages[0]?.id, "generate:1");
    assert.equal(messages[0]?.key, "1");
    assert.equal(messages[1049]?.id, "generate:1050");
    const first = messages[0]?.payload as { id: number; name: string; value: number; created_at: string };
    assert.equal(first.id, 1);
    assert.equal(first.name, "item-1");
    assert.equal(typeof first.value, "number");
    assert.ok(!Number.isNaN(Date.parse(first.created_at)));
  });

  test("a template fills {{i}}, {{now}}, {{uuid}} and {{random}}, keeping numbers numeric when alone", async () => {
    const messages = (
      await drain(
        await sourceFor({
          count: 3,
          start: 10,
          payload: { n: "{{i}}", ref: "ord-{{ i }}-x", at: "{{now}}", trace: "{{uuid}}", r: "{{random}}", fixed: { deep: [1, "v{{i}}"] }, flag: true, other: "{{unknown}}" },
        }),
      )
    ).flatMap((b) => b.messages);
    assert.equal(messages.length, 3);
    const payload = messages[2]?.payload as Record<string, unknown>;
    assert.equal(payload.n, 12);
    assert.equal(payload.ref, "ord-12-x");
    assert.ok(!Number.isNaN(Date.parse(payload.at as string)));
    assert.match(payload.trace as string, /^[0-9a-f-]{36}$/);
    assert.equal(typeof payload.r, "number");
    assert.deepEqual(payload.fixed, { deep: [1, "v12"] });
    assert.equal(payload.flag, true);
    assert.equal(payload.other, "{{unknown}}");
    assert.notEqual((messages[0]?.payload as { trace: string }).trace, payload.trace);
    assert.notEqual(messages[0]?.payload, messages[1]?.payload, "every message gets its own payload object");
    assert.deepEqual(generateConnector.check.source({ payload: { a: "{{unknown}}" } })[0]?.path, ["payload", "a"]);
  });

  test("without count it needs follow, and then runs until the signal aborts", async () => {
    await assert.rejects(sourceFor({}), (error: unknown) => error instanceof JunctionError && error.kind === "config" && /count/.test(error.message));
    const controller = new AbortController();
    let total = 0;
    for await (const batch of (await sourceFor({ batch_size: 500 }, sourceContext({ follow: true }))).batches(controller.signal)) {
      total += batch.messages.length;
      if (total >= 5000) controller.abort();
    }
    assert.equal(total, 5000);
  });

  test("resume checkpoints the next number after each ack and continues from it", async () => {
    const ctx = sourceContext();
    const iterator = (await sourceFor({ count: 30, batch_size: 10, resume: true }, ctx)).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = (await iterator.next()).value;
    await (await iterator.next()).value?.nack(new Error("stop"), true);
    await first?.ack();
    await iterator.return?.();
    assert.deepEqual(ctx.checkpoints.value, { next: 11 });
    const rest = (await drain(await sourceFor({ count: 30, batch_size: 10, resume: true }, ctx))).flatMap((b) => b.messages);
    assert.equal(rest[0]?.id, "generate:11");
    assert.equal(rest.length, 20);
    assert.deepEqual(ctx.checkpoints.value, { next: 31 });

    const plain = sourceContext();
    await drain(await sourceFor({ count: 5 }, plain));
    assert.equal(plain.checkpoints.writes, 0);
  });
});
