import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFromString } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";
import { problemAt, problemsOf } from "./config-problems.js";

function configWithUrl(url: string): string {
  return `version: 1
connections:
  db:
    type: database
    url: ${url}
`;
}

async function urlOf(url: string, env: NodeJS.ProcessEnv, baseDir?: string): Promise<unknown> {
  const loaded = await loadConfigFromString(configWithUrl(url), "junction.yaml", testComponents, { env, ...(baseDir ? { baseDir } : {}) });
  return loaded.config.connections.db?.options.url;
}

describe("interpolation", () => {
  test("${VAR} is replaced by the variable", async () => {
    assert.equal(await urlOf('"postgres://${DB_HOST}:5432/app"', { DB_HOST: "db.internal" }), "postgres://db.internal:5432/app");
  });

  test("${VAR:-default} uses the default when the variable is unset or empty, the value otherwise", async () => {
    assert.equal(await urlOf('"${DB_URL:-sqlite:local.db}"', {}), "sqlite:local.db");
    assert.equal(await urlOf('"${DB_URL:-sqlite:local.db}"', { DB_URL: "" }), "sqlite:local.db");
    assert.equal(await urlOf('"${DB_URL:-sqlite:local.db}"', { DB_URL: "sqlite:prod.db" }), "sqlite:prod.db");
  });

  test("a default may itself be interpolated", async () => {
    assert.equal(await urlOf('"${PRIMARY:-${FALLBACK}}"', { FALLBACK: "sqlite:fallback.db" }), "sqlite:fallback.db");
  });

  test("several expressions and literal text mix in one string", async () => {
    assert.equal(await urlOf('"${SCHEME}://${USER}@${HOST}/db"', { SCHEME: "postgres", USER: "app", HOST: "h" }), "postgres://app@h/db");
  });

  test("$${ is a literal ${ and is not interpolated", async () => {
    assert.equal(await urlOf('"price: $${AMOUNT} and ${CURRENCY}"', { AMOUNT: "10", CURRENCY: "EUR" }), "price: ${AMOUNT} and EUR");
  });

  test("a lone $ or $VAR without braces is kept as written", async () => {
    assert.equal(await urlOf('"$sum(total) $HOME"', { HOME: "/home/x" }), "$sum(total) $HOME");
  });

  describe("${file:…}", () => {
    let dir: string;
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test("reads the file relative to the config directory and trims the trailing newline", async () => {
      dir = await mkdtemp(join(tmpdir(), "junction-"));
      await writeFile(join(dir, "db-url.txt"), "sqlite:from-file.db\n");
      assert.equal(await urlOf('"${file:./db-url.txt}"', {}, dir), "sqlite:from-file.db");
    });

    test("a missing file is a problem naming it, at the expression", async () => {
      const problems = await problemsOf(configWithUrl('"${file:./nope.txt}"'), { baseDir: dir });
      const problem = problemAt(problems, "connections.db.url");
      assert.match(problem.message, /cannot read \$\{file:\.\/nope\.txt\}: no such file/);
      assert.deepEqual([problem.line, problem.col], [5, 11]);
    });
  });

  test("an unset variable without default is a problem naming the variable at its exact position", async () => {
    const problems = await problemsOf(configWithUrl('"postgres://${DB_USER}@${DB_HOST}/app"'), { env: { DB_USER: "app" } });
    const problem = problemAt(problems, "connections.db.url");
    assert.match(problem.message, /environment variable "DB_HOST" is not set/);
    assert.match(problem.message, /\$\{DB_HOST:-value\}/);
    // line 5 is `    url: "postgres://${DB_USER}@${DB_HOST}/app"`; ${DB_HOST} starts at column 33.
    assert.deepEqual([problem.line, problem.col], [5, 33]);
  });

  test("every unset variable is reported, not only the first", async () => {
    const text = `version: 1
name: \${PROJECT}
connections:
  db:
    type: database
    url: \${DB_URL}
`;
    const problems = await problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.line, p.col, p.path]),
      [
        [2, 7, "name"],
        [6, 10, "connections.db.url"],
      ],
    );
  });

  test("an unclosed or malformed expression is a problem", async () => {
    const unclosed = await problemsOf(configWithUrl('"${DB_URL"'));
    assert.match(problemAt(unclosed, "connections.db.url").message, /unclosed "\$\{"/);
    const malformed = await problemsOf(configWithUrl('"${not a var}"'));
    assert.match(problemAt(malformed, "connections.db.url").message, /invalid interpolation "\$\{not a var\}"/);
  });

  test("a value that is one expression takes the type the schema asks for", async () => {
    const text = `version: 1
connections:
  db:
    type: database
    url: sqlite:x.db
    port: \${PORT}
    ssl: \${SSL}
integrations:
  users:
    source: { connection: db, table: users }
    target: { connection: db, table: copy }
    sync:
      batch_size: \${BATCH}
`;
    const loaded = await loadConfigFromString(text, "junction.yaml", testComponents, { env: { PORT: "5433", SSL: "true", BATCH: "250" } });
    assert.equal(loaded.config.connections.db?.options.port, 5433);
    assert.equal(loaded.config.connections.db?.options.ssl, true);
    assert.equal(loaded.config.integrations.users?.batching.count, 250);
  });

  test("an interpolated value that does not read as the expected type is reported as such", async () => {
    const text = `version: 1
connections:
  db:
    type: database
    url: sqlite:x.db
    port: \${PORT}
`;
    const problems = await problemsOf(text, { env: { PORT: "eighty" } });
    assert.equal(problemAt(problems, "connections.db.port").message, 'expected an integer, got "[redacted]"');
  });
});
