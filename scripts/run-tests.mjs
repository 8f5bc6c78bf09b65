#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's built-in test runner and the tsx loader.
// Node 20's `--test` does not expand globs, so the file list is collected here.
// `--unit` leaves out the files marked `// @needs-service` (PostgreSQL, brokers…) or
// `// @slow` (crash and load tests) in their first lines.
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

const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const nodeArgs = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files];
const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: "inherit", env: { ...process.env } });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
