#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's built-in test runner and the tsx loader.
// Node 20's `--test` does not expand globs, so the file list is collected here.
// `--unit` leaves out the files marked `// @needs-service` (PostgreSQL, brokers…) or
// `// @slow` (crash and load tests) in their first lines; `// @exclusive` files run last, alone.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((arg) => arg !== "--unit");

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === "fixtures" || name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out.sort();
}

let files = collect(join(root, "test"));
if (filters.length > 0) files = files.filter((f) => filters.some((needle) => f.includes(needle)));
if (unitOnly) {
  files = files.filter((f) => {
    const head = readFileSync(join(root, f), "utf8").slice(0, 400);
    return !head.includes("// @needs-service") && !head.includes("// @slow");
  });
}
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(2);
}

// Files marked `// @exclusive` stop or restart a shared service (e.g. the local RabbitMQ):
// they run after the others, one at a time, so no other test sees the service go away.
const heads = new Map(files.map((f) => [f, readFileSync(join(root, f), "utf8").slice(0, 400)]));
const exclusive = files.filter((f) => heads.get(f).includes("// @exclusive"));
const shared = files.filter((f) => !exclusive.includes(f));

const concurrency = process.env.TEST_CONCURRENCY ?? "2";

function runNodeTests(list, parallel) {
  return new Promise((resolve) => {
    const nodeArgs = ["--import", "tsx", "--test", `--test-concurrency=${parallel}`, "--test-reporter=spec", ...list];
    const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: "inherit", env: { ...process.env } });
    child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

let exitCode = 0;
if (shared.length > 0) exitCode = await runNodeTests(shared, concurrency);
if (exclusive.length > 0) {
  console.log(`\nrunning ${exclusive.length} test file(s) that restart shared services, one at a time: ${exclusive.join(", ")}`);
  const code = await runNodeTests(exclusive, "1");
  if (code !== 0) exitCode = code;
}
process.exit(exitCode);
