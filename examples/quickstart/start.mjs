#!/usr/bin/env node
// `npm start`: seeds (or changes) the quick start's application database, runs the sync
// once through the junction CLI, and says what happened and where to look.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = resolve(process.argv[2] ?? dirname(fileURLToPath(import.meta.url)));
const cli = join(repo, "dist/cli/main.js");
const config = join(dir, "junction.yaml");
const show = (path) => relative(process.cwd(), path) || ".";

if (!existsSync(cli)) {
  console.error("dist/ is missing: run `npm install` (it builds the project) and try again.");
  process.exit(1);
}
const { openSqlite } = await import(join(repo, "dist/state/sqlite/sqlite-driver.js"));

mkdirSync(join(dir, "data"), { recursive: true });
const activity = seedOrChange(join(dir, "data/app.db"));
console.log(`app database ${show(join(dir, "data/app.db"))}: ${activity}`);

const result = spawnSync(process.execPath, [cli, "run", config, "--once", "--no-admin", "--json"], {
  cwd: dir,
  encoding: "utf8",
  env: { ...process.env, JUNCTION_LOG_LEVEL: process.env.JUNCTION_LOG_LEVEL ?? "error" },
});
if (result.stderr) process.stderr.write(result.stderr);
if (result.status !== 0 && !result.stdout) process.exit(result.status ?? 1);

const summary = JSON.parse(result.stdout);
for (const run of summary.runs) {
  const c = run.counts;
  console.log(`sync ${run.integration}: ${run.status} — read ${c.read}, written ${c.written}, dead-lettered ${c.deadLettered}`);
}
for (const error of summary.errors) console.log(`error: ${error}`);

const warehouse = openSqlite(join(dir, "data/warehouse.db"), { readonly: true });
const rows = warehouse.prepare("SELECT count(*) AS n FROM users").get().n;
warehouse.close();
const c = `-c ${show(config)}`;
console.log(`
target ${show(join(dir, "data/warehouse.db"))}: table users now has ${rows} rows

where to look:
  npx junction runs ${c}                 run history
  npx junction dlq list ${c}             dead letters (the quick start seeds one bad email on purpose)
  npx junction dlq show <id> ${c}        the message and the validation error
  npx junction run ${show(config)}   keep syncing every 10s; then open http://127.0.0.1:9464/health and /metrics
  npm start                                            again: simulates app activity, syncs only new and changed rows`);
process.exit(summary.ok ? 0 : 1);

function prepareInsert(db) {
  return db.prepare("INSERT INTO users (first_name, last_name, email, country, updated_at) VALUES (?, ?, ?, ?, ?)");
}

/** First run: 1,000 users (one with an invalid email). Later runs: 5 new users and 3 updated ones. */
function seedOrChange(path) {
  const db = openSqlite(path);
  db.pragma("journal_mode = WAL");
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get();
  const countries = ["fr", "de", "us", "jp", "br"];
  let message;
  if (!exists) {
    db.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL,
      country TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    db.exec("CREATE INDEX users_updated_at ON users (updated_at, id)");
    const insert = prepareInsert(db);
    const base = Date.now() - 86_400_000;
    db.transaction(() => {
      for (let i = 1; i <= 1000; i++) {
        const email = i === 500 ? "not-an-email" : ` User${i}@Example.COM `;
        // Ten users share each timestamp: the keyset cursor must not skip any of them.
        insert.run(`first${i}`, `last${i}`, email, countries[i % countries.length], new Date(base + Math.floor(i / 10) * 1000).toISOString());
      }
    });
    message = "created with 1,000 users";
  } else {
    const insert = prepareInsert(db);
    const now = new Date().toISOString();
    const max = db.prepare("SELECT max(id) AS id FROM users").get().id;
    db.transaction(() => {
      for (let i = 1; i <= 5; i++) insert.run(`new${max + i}`, `user${max + i}`, `new${max + i}@example.com`, "nl", now);
      db.prepare("UPDATE users SET country = 'se', updated_at = ? WHERE id IN (SELECT id FROM users WHERE id <= ? AND email LIKE '%@%' ORDER BY random() LIMIT 3)").run(now, max);
    });
    message = "simulated activity: 5 new users, 3 updated";
  }
  db.close();
  return message;
}
