import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileConnector } from "../../../src/connectors/file/index.js";
import type { FileConnectionConfig, FileSinkOptions, FileSourceOptions } from "../../../src/connectors/file/schema.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import { errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { drain, runtimeContext, sinkContext, sourceContext, tempDir } from "../connector-context.js";

type FileConnection = Connection<FileSourceOptions, FileSinkOptions>;

const signal = new AbortController().signal;

function messages(payloads: unknown[]): Message[] {
  return payloads.map((payload, i) => createMessage({ id: `m${i}`, payload }));
}

describe("file sink", () => {
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

  async function connect(config: FileConnectionConfig): Promise<FileConnection> {
    const connection = await fileConnector.connect(config, runtimeContext(dir));
    open.push(connection);
    return connection;
  }

  async function sinkFor(config: FileConnectionConfig, options: FileSinkOptions = {}): Promise<Sink> {
    return ((await connect(config)).sink as NonNullable<FileConnection["sink"]>)(options, sinkContext);
  }

  test("appends JSON lines, completing a last line that had no newline, and reads back identically", async () => {
    await writeFile(join(dir, "out.jsonl"), '{"existing":true}');
    const sink = await sinkFor({ path: "out.jsonl" });
    assert.deepEqual(await sink.write(messages([{ a: 1 }, "text", [1, 2]]), signal), { failures: [] });
    assert.deepEqual(await sink.write(messages([{ b: { nested: null } }]), signal), { failures: [] });
    assert.equal(await readFile(join(dir, "out.jsonl"), "utf8"), '{"existing":true}\n{"a":1}\n"text"\n[1,2]\n{"b":{"nested":null}}\n');
  });

  test("a payload that cannot be JSON fails alone and permanently", async () => {
    const sink = await sinkFor({ path: "bigint.jsonl" }, { fsync: false });
    const outcome = await sink.write(messages([{ ok: 1 }, { bad: 1n }, undefined]), signal);
    assert.deepEqual(
      outcome.failures.map((f) => [f.index, errorKind(f.error)]),
      [
        [1, "permanent"],
        [2, "permanent"],
      ],
    );
    assert.equal(await readFile(join(dir, "bigint.jsonl"), "utf8"), '{"ok":1}\n');
  });

  test("CSV: header written once for a new file, quoting round-trips through the source", async () => {
    const config: FileConnectionConfig = { path: "out.csv" };
    const sink = await sinkFor(config);
    const rows = [
      { id: 1, name: "Ann", note: 'says "hi"' },
      { id: 2, name: "Bob, Jr.", note: "two\nlines", extra: "dropped" },
    ];
    assert.deepEqual(await sink.write(messages(rows), signal), { failures: [] });
    const outcome = await sink.write(messages([{ id: 3, name: "Cy", note: { tags: ["x"] } }, 42]), signal);
    assert.deepEqual(
      outcome.failures.map((f) => f.index),
      [1],
    );
    const text = await readFile(join(dir, "out.csv"), "utf8");
    assert.equal(text.split("id,name,note").length - 1, 1, "one header");
    assert.ok(text.startsWith("id,name,note\n1,Ann,"));

    // A second sink on the same existing file takes the columns from its header and writes no header.
    const again = await sinkFor(config);
    await again.write(messages([{ note: "last", id: 4, name: "Dee" }]), signal);
    const read = (await drain(((await connect(config)).source as NonNullable<FileConnection["source"]>)({}, sourceContext()))).flatMap((b) => b.messages);
    assert.deepEqual(
      read.map((m) => m.payload),
      [
        { id: "1", name: "Ann", note: 'says "hi"' },
        { id: "2", name: "Bob, Jr.", note: "two\nlines" },
        { id: "3", name: "Cy", note: '{"tags":["x"]}' },
        { id: "4", name: "Dee", note: "last" },
      ],
    );
  });

  test("concurrent writes never interleave", async () => {
    const sink = await sinkFor({ path: "concurrent.jsonl" }, { fsync: false });
    await Promise.all(Array.from({ length: 20 }, (_, b) => sink.write(messages(Array.from({ length: 50 }, (_, i) => ({ b, i, pad: "y".repeat(100) }))), signal)));
    const lines = (await readFile(join(dir, "concurrent.jsonl"), "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 1000);
    for (const line of lines) JSON.parse(line);
  });

  test("an unwritable path fails the batch as transient; health says why", async () => {
    const connection = await connect({ path: "no/such/dir/out.jsonl" });
    const outcome = await (connection.sink as NonNullable<FileConnection["sink"]>)({}, sinkContext).write(messages([{ a: 1 }, { a: 2 }]), signal);
    assert.equal(outcome.failures.length, 2);
    assert.equal(errorKind(outcome.failures[0]?.error), "transient");
    const health = await connection.health(signal);
    assert.equal(health.status, "unhealthy");
    assert.match(health.detail ?? "", /does not exist/);
    assert.equal((await (await connect({ path: "out.jsonl" })).health(signal)).status, "healthy");
  });
});
