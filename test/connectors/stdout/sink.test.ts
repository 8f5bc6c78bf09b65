import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs a real process that writes through the stdout connector and returns what it printed. */
function run(script: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout, stderr, code }));
  });
}

const prelude = `
import { stdoutConnector } from "./src/connectors/stdout/index.ts";
import { createMessage } from "./src/core/message.ts";
import { pino } from "pino";
const connection = await stdoutConnector.connect({}, { name: "out", logger: pino({ level: "silent" }), baseDir: ".", signal: new AbortController().signal });
const signal = new AbortController().signal;
`;

test("writes one JSON line per payload to stdout, respecting backpressure through a slow pipe", async () => {
  const { stdout, code, stderr } = await run(`${prelude}
const sink = connection.sink({}, { integration: "t", logger: pino({ level: "silent" }) });
let failures = 0;
for (let b = 0; b < 50; b++) {
  const batch = Array.from({ length: 200 }, (_, i) => createMessage({ payload: { b, i, pad: "z".repeat(200) } }));
  failures += (await sink.write(batch, signal)).failures.length;
}
const bad = await sink.write([createMessage({ payload: { ok: 1 } }), createMessage({ payload: { n: 1n } })], signal);
console.error(JSON.stringify({ failures, bad: bad.failures.map((f) => f.index) }));
`);
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines.length, 50 * 200 + 1);
  assert.deepEqual(JSON.parse(lines[0] as string), { b: 0, i: 0, pad: "z".repeat(200) });
  assert.deepEqual(JSON.parse(lines.at(-1) as string), { ok: 1 });
  assert.deepEqual(JSON.parse(stderr.trim().split("\n").at(-1) as string), { failures: 0, bad: [1] });
});

test("pretty format and the stderr stream", async () => {
  const { stdout, stderr, code } = await run(`${prelude}
const sink = connection.sink({ format: "pretty", stream: "stderr" }, { integration: "t", logger: pino({ level: "silent" }) });
await sink.write([createMessage({ payload: { a: [1] } })], signal);
`);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "");
  assert.equal(stderr, '{\n  "a": [\n    1\n  ]\n}\n');
});
