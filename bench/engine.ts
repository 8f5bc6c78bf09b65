// Engine throughput: generate → map (JSONata) → discard through Junction's runtime,
// against a hand-written loop doing the same work (same payloads, same compiled JSONata
// expression) in the same process and run.
//
//   npm run bench                       (BENCH_MESSAGES=300000 BENCH_ROUNDS=3 by default)
import jsonata from "jsonata";
import { loadConfigFromString } from "../src/config/index.js";
import { defaultPayload } from "../src/connectors/generate/payload-template.js";
import { builtinComponents } from "../src/engine/components.js";
import { JunctionRuntime } from "../src/engine/runtime.js";
import { createLogger } from "../src/observability/logger.js";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EXPRESSION = '{ "id": id, "name": $uppercase(name), "value": value * 2 }';

const config = `version: 1
name: bench-engine
state: "sqlite::memory:"
admin: false
connections:
  gen: { type: generate }
  sink: { type: discard }
integrations:
  pipeline:
    source: { connection: gen, count: ${MESSAGES}, batch_size: 500 }
    transform:
      - map: '${EXPRESSION}'
    target: { connection: sink }
    sync: { trigger: once, batch_size: 500, concurrency: 4 }
`;

async function junction(): Promise<number> {
  const loaded = await loadConfigFromString(config, "<inline>", builtinComponents, { env: {} });
  const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
  try {
    const started = performance.now();
    const result = await runtime.run({ once: true });
    const seconds = (performance.now() - started) / 1000;
    const written = result.summaries[0]?.run.counts.written;
    if (written !== MESSAGES) throw new Error(`junction wrote ${written}, expected ${MESSAGES}`);
    return MESSAGES / seconds;
  } finally {
    await runtime.close();
  }
}

/** What someone would write by hand: build each payload, evaluate the same expression, hand it on. */
async function handWritten(): Promise<number> {
  const expression = jsonata(EXPRESSION);
  let written = 0;
  const started = performance.now();
  for (let from = 1; from <= MESSAGES; from += 500) {
    const now = new Date().toISOString();
    const batch: unknown[] = [];
    for (let i = from; i < from + 500 && i <= MESSAGES; i++) batch.push(await expression.evaluate(defaultPayload(i, now)));
    written += batch.length;
  }
  const seconds = (performance.now() - started) / 1000;
  if (written !== MESSAGES) throw new Error(`baseline wrote ${written}`);
  return MESSAGES / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const ours: number[] = [];
const baseline: number[] = [];
await handWritten(); // warm-up: JIT and JSONata
await junction();
for (let round = 1; round <= ROUNDS; round++) {
  baseline.push(await handWritten());
  ours.push(await junction());
  console.log(`round ${round}: junction ${Math.round(ours.at(-1) as number)} msg/s, hand-written loop ${Math.round(baseline.at(-1) as number)} msg/s`);
}
const ratio = median(ours) / median(baseline);
console.log(`\nengine: generate → map → discard, ${MESSAGES} messages, median of ${ROUNDS} rounds (Node ${process.version})`);
console.log(`  junction runtime    ${Math.round(median(ours)).toLocaleString("en-US")} msg/s`);
console.log(`  hand-written loop   ${Math.round(median(baseline)).toLocaleString("en-US")} msg/s`);
console.log(`  ratio               ${ratio.toFixed(2)} (aim ≥ 0.80)`);
