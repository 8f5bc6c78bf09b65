// One Junction case of bench/db-sync.ts, run the way users run Junction: plain Node on the
// compiled dist/ (no TypeScript loader), so its RSS and CPU are the product's own.
// Started by bench/db-sync.ts with BENCH_DB_SYNC_CHILD set to JSON:
//   { config: "<junction.yaml text>", passes: [{ label, rows, before?: { url, sql: [...] } }] }
// `before` runs SQL statements (e.g. an UPDATE, then ANALYZE) ahead of that pass; when rows
// is null the pass expects as many rows as the first statement affected. Prints one JSON
// line of results.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";

// BENCH_DIST: another compiled build to measure (e.g. of an older commit); default dist/.
const dist = process.env.BENCH_DIST ? pathToFileURL(`${resolve(process.env.BENCH_DIST)}/index.js`).href : "../dist/index.js";
const { JunctionRuntime, builtinComponents, createLogger, loadConfigFromString } = await import(dist);

const spec = JSON.parse(process.env.BENCH_DB_SYNC_CHILD ?? "null");
if (spec === null) throw new Error("bench/db-sync-child.mjs is started by bench/db-sync.ts (BENCH_DB_SYNC_CHILD is not set)");

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

/** Runs `sql` in order; returns the row count of the first statement. */
async function runSql({ url, sql }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts = [];
    for (const statement of sql) counts.push((await client.query(statement)).rowCount ?? 0);
    return counts[0];
  } finally {
    await client.end();
  }
}

/**
 * One pass of the integration. The first goes through `run`; later ones through
 * `runIntegration`, because `run` registers the connections' health checks again.
 */
async function runPass(runtime, expected, first) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let summary;
  let errors = [];
  if (first) {
    const result = await runtime.run({ once: true });
    summary = result.summaries[0];
    errors = result.errors;
  } else {
    const [integration] = runtime.selectIntegrations();
    if (integration) summary = await runtime.runIntegration(integration, { follow: false, trigger: "once" });
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const written = summary?.run.counts.written;
  if (summary?.status !== "succeeded" || written !== expected) {
    throw new Error(`junction wrote ${written} of ${expected} (${summary?.status}): ${[...errors, summary?.error ?? ""].join("; ")}`);
  }
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

const loaded = await loadConfigFromString(spec.config, "<inline>", builtinComponents, { env: {} });
const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
// The floor: modules loaded and the runtime open, before any row is read.
const idleRss = process.memoryUsage().rss;
const results = [];
try {
  for (const [index, pass] of spec.passes.entries()) {
    const affected = pass.before ? await runSql(pass.before) : undefined;
    const rows = pass.rows ?? affected;
    results.push({ label: pass.label, rows, ...(await runPass(runtime, rows, index === 0)) });
  }
} finally {
  await runtime.close();
  clearInterval(sampler);
}
// maxRSS is the kernel's high-water mark (KiB), so a spike between samples is not missed.
const peak = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(`${JSON.stringify(results.map((result) => ({ ...result, peakRss: peak, idleRss })))}\n`);
