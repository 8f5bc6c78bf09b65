import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileConnector } from "../../../src/connectors/file/index.js";
import type { FileConnectionConfig, FileSinkOptions, FileSourceOptions } from "../../../src/connectors/file/schema.js";
import type { Batch, Connection, Source } from "../../../src/connectors/types.js";
import type { Message } from "../../../src/core/message.js";
import { drain, runtimeContext, sourceContext, tempDir } from "../connector-context.js";

type FileConnection = Connection<FileSourceOptions, FileSinkOptions>;

describe("file source", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const open: FileConnection[] = [];

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => {
    for (const connection of open) await connection.close();
    await remove();
  });

  async function sourceFor(config: FileConnectionConfig, options: FileSourceOptions, ctx = sourceContext()): Promise<Source> {
    const connection = await fileConnector.connect(config, runtimeContext(dir));
    open.push(connection);
    return (connection.source as NonNullable<FileConnection["source"]>)(options, ctx);
  }

  function payloads(batches: Batch[]): unknown[] {
    return batches.flatMap((batch) => batch.messages.map((message) => message.payload));
  }

  test("JSONL resumes from the byte offset of the last acked record", async () => {
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i + 1, text: `line ${i + 1}` }));
    await writeFile(join(dir, "resume.jsonl"), lines.join("\n") + "\n");
    const ctx = sourceContext({ batchSize: 10 });

    const iterator = (await sourceFor({ path: "resume.jsonl" }, { key: "n" }, ctx)).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Batch;
    const second = (await iterator.next()).value as Batch;
    await first.ack();
    await iterator.return?.();
    assert.equal(second.messages.length, 10);
    const expectedOffset = lines.slice(0, 10).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    assert.deepEqual(ctx.checkpoints.value, { offset: expectedOffset, line: 10 });
    assert.equal(first.messages[0]?.id, "resume.jsonl:0");
    assert.equal(first.messages[0]?.key, "1");
    assert.deepEqual(first.messages[1]?.metadata, { file: "resume.jsonl", offset: Buffer.byteLength(lines[0] as string) + 1, line: 2 });

    const rest = await drain(await sourceFor({ path: "resume.jsonl" }, {}, ctx));
    assert.deepEqual(
      payloads(rest).map((p) => (p as { n: number }).n),
      Array.from({ length: 15 }, (_, i) => i + 11),
    );
    assert.equal(rest[0]?.messages[0]?.id, `resume.jsonl:${expectedOffset}`);
    assert.deepEqual(ctx.checkpoints.value, { offset: lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0), line: 25 });
  });

  test("CSV resumes after a partial ack, re-reading the header, with a quoted field spanning lines", async () => {
    const csv = ['id,name,note', '1,Ann,"plain"', '2,Bob,"two', 'lines, and a ""quote"""', "3,Cy,", "\r", '4,"Dee, Jr.",x', "5,Eve,last"].join("\r\n") + "\r\n";
    await writeFile(join(dir, "people.csv"), "\uFEFF" + csv);
    const ctx = sourceContext({ batchSize: 2 });
    const iterator = (await sourceFor({ path: "people.csv" }, { key: "id" }, ctx)).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Batch;
    assert.deepEqual(
      first.messages.map((m) => m.payload),
      [
        { id: "1", name: "Ann", note: "plain" },
        { id: "2", name: "Bob", note: 'two\r\nlines, and a "quote"' },
      ],
    );
    assert.equal(first.messages[1]?.metadata.line, 3);
    await first.ack();
    await iterator.return?.();
    assert.equal((ctx.checkpoints.value as { line: number }).line, 4);

    const rest = payloads(await drain(await sourceFor({ path: "people.csv" }, { key: "id" }, ctx)));
    assert.deepEqual(rest, [
      { id: "3", name: "Cy", note: "" },
      { id: "4", name: "Dee, Jr.", note: "x" },
      { id: "5", name: "Eve", note: "last" },
    ]);
  });

  test("an invalid JSONL line becomes a message with the raw text and metadata.parse_error", async () => {
    await writeFile(join(dir, "broken.jsonl"), '{"ok":1}\n{not json\n\n{"ok":2}');
    const messages = (await drain(await sourceFor({ path: "broken.jsonl" }, {}))).flatMap((b) => b.messages);
    assert.equal(messages.length, 3);
    assert.equal(messages[1]?.payload, "{not json");
    assert.match(String(messages[1]?.metadata.parse_error), /invalid JSON/);
    assert.equal(messages[0]?.metadata.parse_error, undefined);
    assert.deepEqual(messages[2]?.payload, { ok: 2 }, "an unterminated last line is read when not following");
  });

  test("a CSV row with the wrong number of fields surfaces with parse_error; the others parse", async () => {
    await writeFile(join(dir, "ragged.csv"), "a,b\n1,2\n3\n4,5\n");
    const messages = (await drain(await sourceFor({ path: "ragged.csv" }, {}))).flatMap((b) => b.messages);
    assert.deepEqual(
      messages.map((m) => [m.payload, m.metadata.parse_error === undefined]),
      [
        [{ a: "1", b: "2" }, true],
        ["3", false],
        [{ a: "4", b: "5" }, true],
      ],
    );
  });

  test("csv.columns with header: false names the fields; a .tsv file uses tabs", async () => {
    await writeFile(join(dir, "plain.tsv"), "1\tx\n2\ty\n");
    const messages = (await drain(await sourceFor({ path: "plain.tsv", csv: { header: false, columns: ["id", "v"] } }, {}))).flatMap((b) => b.messages);
    assert.deepEqual(
      messages.map((m) => m.payload),
      [
        { id: "1", v: "x" },
        { id: "2", v: "y" },
      ],
    );
  });

  test("follow mode picks up appended lines, waits for a line to be complete, and restarts after truncation", async () => {
    const file = join(dir, "follow.jsonl");
    await writeFile(file, '{"n":1}\n');
    const controller = new AbortController();
    const ctx = sourceContext({ follow: true });
    const seen: Message[] = [];
    const source = await sourceFor({ path: "follow.jsonl" }, { poll_interval: "10ms" }, ctx);
    for await (const batch of source.batches(controller.signal)) {
      seen.push(...batch.messages);
      await batch.ack();
      const count = seen.length;
      if (count === 1) {
        await appendFile(file, '{"n":2}\n{"n":');
        setTimeout(() => void appendFile(file, "3}\n"), 30);
      }
      if (count === 3) {
        await truncate(file, 0);
        await appendFile(file, '{"n":"after truncation"}\n');
      }
      if (count === 4) controller.abort();
    }
    assert.deepEqual(
      seen.map((m) => m.payload),
      [{ n: 1 }, { n: 2 }, { n: 3 }, { n: "after truncation" }],
    );
    assert.equal(seen[3]?.id, "follow.jsonl:0");
  });

  test("a missing file is a config error when not following, and awaited when following", async () => {
    await assert.rejects(drain(await sourceFor({ path: "missing.jsonl" }, {})), /file not found/);
    const controller = new AbortController();
    const source = await sourceFor({ path: "later.jsonl" }, { poll_interval: "10ms" }, sourceContext({ follow: true }));
    setTimeout(() => void writeFile(join(dir, "later.jsonl"), '{"late":true}\n'), 30);
    for await (const batch of source.batches(controller.signal)) {
      assert.deepEqual(batch.messages[0]?.payload, { late: true });
      controller.abort();
    }
  });

  test("a large file is streamed in batches with every record exactly once", async () => {
    const count = 50_000;
    const body = Array.from({ length: count }, (_, i) => `{"i":${i},"pad":"${"x".repeat(40)}"}\n`).join("");
    await writeFile(join(dir, "large.jsonl"), body);
    let total = 0;
    let expected = 0;
    for await (const batch of (await sourceFor({ path: "large.jsonl" }, { batch_size: 1000 })).batches(new AbortController().signal)) {
      for (const message of batch.messages) assert.equal((message.payload as { i: number }).i, expected++);
      total += batch.messages.length;
      await batch.ack();
    }
    assert.equal(total, count);
  });

  test("check requires columns when a CSV has no header and a format for unknown extensions", async () => {
    assert.deepEqual(fileConnector.check.config({ path: "x.csv", csv: { header: false } })[0]?.path, ["csv", "columns"]);
    assert.deepEqual(fileConnector.check.config({ path: "x.data" })[0]?.path, ["format"]);
    assert.deepEqual(fileConnector.check.config({ path: "x.data", format: "jsonl" }), []);
    await assert.rejects(fileConnector.connect({ path: "x.data" }, runtimeContext(dir)), /set format/);
  });
});
