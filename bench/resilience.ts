// Per-call overhead of resilience policies, against cockatiel and opossum in the same run:
//   (a) retry alone, (b) circuit breaker alone, (c) retry + breaker + timeout + bulkhead,
// and the heap used by 10,000 circuit breakers.
//
//   npm run bench:resilience            (BENCH_CALLS=200000 BENCH_ROUNDS=5 by default)
//
// Overhead = (time of N policy executions − time of N direct calls) / N, for an async
// function that succeeds at once; the median of the rounds is reported.
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, bulkhead as cBulkhead, circuitBreaker as cBreaker, handleAll, retry as cRetry, timeout as cTimeout, wrap } from "cockatiel";
import OpossumBreaker from "opossum";
import { bulkhead, circuitBreaker, pipeline, retry, timeout } from "../src/resilience/index.js";

const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BREAKERS = 10_000;

const work = async (): Promise<number> => 1;

async function timeCalls(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await call();
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** ns of overhead per call, median over rounds, each round measured against a direct-call baseline. */
async function overhead(call: () => Promise<unknown>): Promise<number> {
  await timeCalls(call); // warm-up
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const direct = await timeCalls(work);
    const wrapped = await timeCalls(call);
    samples.push(((wrapped - direct) * 1e6) / CALLS);
  }
  return Math.max(0, median(samples));
}

const ours = {
  retry: retry({ maxAttempts: 3, backoff: { kind: "exponential", baseDelayMs: 100, maxDelayMs: 30_000, jitter: "full" } }),
  breaker: circuitBreaker({ window: { kind: "consecutive", failureThreshold: 5 }, openDurationMs: 10_000 }),
};
const oursComposed = pipeline(
  retry({ maxAttempts: 3 }),
  circuitBreaker({ window: { kind: "consecutive", failureThreshold: 5 }, openDurationMs: 10_000 }),
  timeout(1_000, { strategy: "cooperative" }),
  bulkhead({ maxConcurrent: 10, maxQueue: 100 }),
);

const cockatiel = {
  retry: cRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  breaker: cBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
};
const cockatielComposed = wrap(
  cRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  cBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  cTimeout(1_000, TimeoutStrategy.Cooperative),
  cBulkhead(10, 100),
);

const opossumBreaker = new OpossumBreaker(work, { timeout: false, errorThresholdPercentage: 50, resetTimeout: 10_000 });
// opossum has no retry; its closest composition is a breaker with a timeout and a concurrency cap.
const opossumComposed = new OpossumBreaker(work, { timeout: 1_000, errorThresholdPercentage: 50, resetTimeout: 10_000, capacity: 10 });

const rows: Array<[string, number, number, number | undefined]> = [];
{
  const a = await overhead(() => ours.retry.execute(work));
  const b = await overhead(() => cockatiel.retry.execute(work));
  rows.push(["(a) retry alone", a, b, undefined]);
}
{
  const a = await overhead(() => ours.breaker.execute(work));
  const b = await overhead(() => cockatiel.breaker.execute(work));
  const c = await overhead(() => opossumBreaker.fire());
  rows.push(["(b) circuit breaker alone", a, b, c]);
}
{
  const a = await overhead(() => oursComposed.execute(work));
  const b = await overhead(() => cockatielComposed.execute(work));
  const c = await overhead(() => opossumComposed.fire());
  rows.push(["(c) retry + breaker + timeout + bulkhead", a, b, c]);
}
opossumBreaker.shutdown();
opossumComposed.shutdown();

function heapOf(make: () => unknown): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc (npm run bench:resilience does)");
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: unknown[] = [];
  for (let i = 0; i < BREAKERS; i++) kept.push(make());
  gc();
  const used = process.memoryUsage().heapUsed - before;
  if (kept.length !== BREAKERS) throw new Error("unreachable");
  return used / 1024 / 1024;
}

const heap = {
  oursConsecutive: heapOf(() => circuitBreaker({ window: { kind: "consecutive", failureThreshold: 5 }, openDurationMs: 10_000 })),
  oursCount: heapOf(() => circuitBreaker({ window: { kind: "count", size: 100, minimumCalls: 20, failureRateThreshold: 0.5 }, openDurationMs: 10_000 })),
  cockatiel: heapOf(() => cBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })),
  opossum: heapOf(() => {
    const breaker = new OpossumBreaker(work, { timeout: false, resetTimeout: 10_000 });
    breaker.shutdown();
    return breaker;
  }),
};

const fmt = (ns: number | undefined): string => (ns === undefined ? "n/a" : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number | undefined): string => (b === undefined || b === 0 ? "n/a" : (a / b).toFixed(2));
console.log(`\nresilience: per-call overhead, ${CALLS} calls × ${ROUNDS} rounds, median (Node ${process.version})`);
console.log("| case | junction | cockatiel | opossum | junction / cockatiel | junction / opossum |");
console.log("|---|---|---|---|---|---|");
for (const [name, a, b, c] of rows) console.log(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${fmt(c)} | ${ratio(a, b)} | ${ratio(a, c)} |`);
console.log(`\nheap used by ${BREAKERS} circuit breakers`);
console.log(`| junction (consecutive) | junction (count window, 100) | cockatiel (consecutive) | opossum |`);
console.log(`|---|---|---|---|`);
console.log(`| ${heap.oursConsecutive.toFixed(2)} MB | ${heap.oursCount.toFixed(2)} MB | ${heap.cockatiel.toFixed(2)} MB | ${heap.opossum.toFixed(2)} MB |`);
