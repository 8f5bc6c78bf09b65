import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** Newest modification time under `dir` of files whose name ends with `suffix`. */
function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, suffix));
    else if (entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ (npm run build) unless it is newer than every file in src/, or BENCH_DIST
 * names another build: benchmarks run Junction the way users do, on compiled JavaScript.
 */
export function ensureFreshDist(): void {
  if (process.env.BENCH_DIST) return;
  const dist = join(repoRoot, "dist");
  if (existsSync(join(dist, "index.js")) && newestMtime(dist, ".js") >= newestMtime(join(repoRoot, "src"), ".ts")) return;
  console.log("  dist/ is older than src/: npm run build");
  const build = spawnSync("npm", ["run", "build"], { cwd: repoRoot, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed; the Junction cases run on dist/:\n${build.stdout}${build.stderr}`);
}
