import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { problemAt, problemsOf, withIntegration } from "./config-problems.js";

function located(problems: Awaited<ReturnType<typeof problemsOf>>, path: string): [number, number] {
  const problem = problemAt(problems, path);
  return [problem.line, problem.col];
}

describe("problem positions", () => {
  test("a wrong value points at the value", async () => {
    const problems = await problemsOf(
      withIntegration(`    source: { connection: db, table: users }
    target: { connection: out }
    sync:
      batch_size: lots`),
    );
    // line 13 is `      batch_size: lots`
    assert.deepEqual(located(problems, "integrations.users.sync.batch_size"), [13, 19]);
  });

  test("an unknown key points at the key", async () => {
    const problems = await problemsOf(
      withIntegration(`    source: { connection: db, table: users }
    target: { connection: out }
    sync:
      trigger: once
      batch_szie: 10`),
    );
    assert.deepEqual(located(problems, "integrations.users.sync.batch_szie"), [14, 7]);
  });

  test("a missing required key points at the key of the map that lacks it", async () => {
    const problems = await problemsOf(
      withIntegration(`    description: no target
    source: { connection: db, table: users }`),
    );
    assert.deepEqual(located(problems, "integrations.users"), [9, 3]);
    assert.equal(problemAt(problems, "integrations.users").message, 'missing required key "target": write to one target (target:), to several (targets:), or to the first matching case (switch:)');
  });

  test("a missing key of a connector's options points at the endpoint key", async () => {
    const problems = await problemsOf(
      withIntegration(`    source:
      connection: db
    target: { connection: out }`),
    );
    assert.deepEqual(located(problems, "integrations.users.source"), [10, 5]);
    assert.equal(problemAt(problems, "integrations.users.source").message, 'missing required key "table"');
  });

  test("positions inside flow maps and lists are exact", async () => {
    const problems = await problemsOf(
      withIntegration(`    source: { connection: db, table: users }
    transform:
      - filter: active
      - mapp: '{ "id": id }'
    target: { connection: out, pretty: maybe }`),
    );
    assert.deepEqual(located(problems, "integrations.users.transform.1.mapp"), [13, 9]);
    assert.deepEqual(located(problems, "integrations.users.target.pretty"), [14, 40]);
  });

  test("a component check's path is relative to the block and gets prefixed", async () => {
    const problems = await problemsOf(
      withIntegration(`    source:
      connection: db
      table: users
      cursor: updated_at
    target: { connection: out }`),
    );
    // The check reports ["key"], which is not written: the position falls back to the `source:` key.
    const problem = problemAt(problems, "integrations.users.source.key");
    assert.equal(problem.message, '"cursor" needs "key"');
    assert.deepEqual([problem.line, problem.col], [10, 5]);
  });

  test("a missing top-level key points at the first line of content", async () => {
    const problems = await problemsOf("# a comment\nname: demo\n");
    assert.deepEqual(located(problems, ""), [2, 1]);
    assert.equal(problemAt(problems, "").message, 'missing required key "version"');
  });

  test("values reached through YAML anchors and merge keys are found", async () => {
    const text = `version: 1
x-defaults: &defaults
  batch_size: many
connections:
  db: { type: database, url: sqlite:x.db }
integrations:
  users:
    source: { connection: db, table: users }
    target: { connection: db, table: copy }
    sync:
      <<: *defaults
`;
    const problems = await problemsOf(text);
    assert.deepEqual(located(problems, "x-defaults"), [2, 1]);
    assert.deepEqual(located(problems, "integrations.users.sync.batch_size"), [3, 15]);
  });

  test("problems are sorted by position", async () => {
    const problems = await problemsOf(`version: 1
log: { level: loud }
admin: { listen: nowhere }
shutdown_timeout: soon
`);
    assert.deepEqual(
      problems.map((p) => p.line),
      [2, 3, 4],
    );
  });
});

describe("YAML errors", () => {
  test("a syntax error is a problem at its position", async () => {
    const problems = await problemsOf("version: 1\nconnections:\n  db: { type: database\n");
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? "", /^invalid YAML: /);
    assert.equal(problems[0]?.line, 4);
  });

  test("a tab used for indentation is named as such", async () => {
    const problems = await problemsOf("version: 1\nconnections:\n\tdb:\n    type: database\n");
    assert.equal(problems[0]?.message, "tab used for indentation: YAML only allows spaces");
    assert.deepEqual([problems[0]?.line, problems[0]?.col], [3, 1]);
  });

  test("a duplicate key is a problem at the second one, naming the first", async () => {
    const problems = await problemsOf(`version: 1
connections:
  db:
    type: database
    url: sqlite:a.db
    url: sqlite:b.db
`);
    const problem = problemAt(problems, "connections.db.url");
    assert.deepEqual([problem.line, problem.col], [6, 5]);
    assert.match(problem.message, /duplicate key "url" \(first defined at line 5\)/);
  });

  test("text that is not YAML gives a handful of problems, not one per token", async () => {
    const problems = await problemsOf(Array.from({ length: 40 }, (_, i) => `mkdir(x${i}, { recursive: true });\n}`).join("\n"));
    assert.ok(problems.length > 0 && problems.length <= 10, `${problems.length} problems`);
    for (const problem of problems) assert.ok(problem.message.length < 200, problem.message);
  });

  test("an empty file says how to start", async () => {
    const problems = await problemsOf("# nothing yet\n");
    assert.match(problems[0]?.message ?? "", /the file is empty: start with "version: 1"/);
  });
});
