// @needs-service redis
// @slow: each scenario runs four processes for three seconds.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Redis } from "ioredis";
import { serviceSkipReason } from "../support/services.js";

const skip = await serviceSkipReason("redis");
const prefix = `junction-test:rl-procs:${randomUUID()}:`;
const worker = fileURLToPath(new URL("./fixtures/redis-limiter-worker.ts", import.meta.url));
const tsxLoader = import.meta.resolve("tsx");
const PROCESSES = 4;
const RUN_MS = 3000;
const started: ChildProcess[] = [];

interface WorkerResult {
  allowed: number;
  attempts: number;
  firstSent: number;
  lastReceived: number;
}

/**
 * Seconds from the first request sent to the last answer received, across the processes.
 * Requests in flight at the deadline are answered a little after it, when a few more
 * tokens may have refilled; the bound below uses this measured span, not the nominal 3 s.
 */
function spanSeconds(results: WorkerResult[]): number {
  return (Math.max(...results.map((r) => r.lastReceived)) - Math.min(...results.map((r) => r.firstSent))) / 1000;
}

/** Starts a worker and resolves once it printed "ready"; `result` resolves with its final report. */
function startWorker(kind: string, key: string): Promise<{ child: ChildProcess; result: Promise<WorkerResult> }> {
  const child = spawn(process.execPath, ["--import", tsxLoader, worker, kind, prefix, key], { stdio: ["pipe", "pipe", "pipe"] });
  started.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killTimer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.once("exit", (code) => {
      clearTimeout(killTimer);
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(last) as WorkerResult);
    });
  });
  const ready = new Promise<{ child: ChildProcess; result: Promise<WorkerResult> }>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith("ready\n")) resolve({ child, result });
    });
    result.catch(reject);
  });
  return ready;
}

/** Runs PROCESSES workers against one key, released together with one shared deadline; returns their allowed counts. */
async function runWorkers(kind: string): Promise<WorkerResult[]> {
  const key = `${kind}:${randomUUID()}`;
  const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(kind, key)));
  // The deadline is fixed before any worker is released, so together they run at most RUN_MS.
  const deadline = Date.now() + RUN_MS;
  for (const { child } of workers) child.stdin?.end(`go ${deadline}\n`);
  return Promise.all(workers.map((w) => w.result));
}

describe("Redis rate limiters shared by several processes", { skip }, () => {
  after(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    const redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  test("4 processes sharing one Redis limit of 100 per second for 3 seconds let through no more than 300 + one bucket's burst in total", async (t) => {
    const capacity = 50; // the worker's bucket: capacity 50, refill 100 per second
    const results = await runWorkers("token-bucket");
    const allowed = results.reduce((sum, r) => sum + r.allowed, 0);
    const attempts = results.reduce((sum, r) => sum + r.attempts, 0);
    const span = spanSeconds(results);
    const bound = Math.floor(capacity + 100 * Math.max(3, span));
    t.diagnostic(`allowed ${allowed} of ${attempts} attempts over ${span.toFixed(3)} s (bound ${bound})`);
    assert.ok(results.every((r) => r.attempts > 0), "every process took part");
    assert.ok(attempts > allowed * 2, `the processes asked for far more than the limit (${attempts} attempts)`);
    assert.ok(span < 3.5, `the run lasted ${span} s`);
    assert.ok(allowed <= bound, `allowed ${allowed} > ${bound}`);
    assert.ok(allowed >= 200, `allowed ${allowed} < 200: the limiter let through far less than its rate`);
  });

  test("the same for the sliding window: no more than 300 + one window's limit", async (t) => {
    const limit = 100; // the worker's window: 100 per 1000 ms
    const results = await runWorkers("sliding-window");
    const allowed = results.reduce((sum, r) => sum + r.allowed, 0);
    const span = spanSeconds(results);
    // A sliding window admits at most `limit` per window length, plus at most one window's limit at the edges.
    const bound = Math.floor(limit * (Math.max(3, span) + 1));
    t.diagnostic(`allowed ${allowed} of ${results.reduce((sum, r) => sum + r.attempts, 0)} attempts over ${span.toFixed(3)} s (bound ${bound})`);
    assert.ok(results.every((r) => r.attempts > 0), "every process took part");
    assert.ok(span < 3.5, `the run lasted ${span} s`);
    assert.ok(allowed <= bound, `allowed ${allowed} > ${bound}`);
    assert.ok(allowed >= 200, `allowed ${allowed} < 200: the limiter let through far less than its rate`);
  });
});
