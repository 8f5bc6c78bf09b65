import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems } from "../../src/config/index.js";
import { closestMatch } from "../../src/config/did-you-mean.js";
import { problemAt, problemsOf, withIntegration } from "./config-problems.js";

async function messageAt(text: string, path: string): Promise<string> {
  return problemAt(await problemsOf(text), path).message;
}

const endpoints = `    source: { connection: db, table: users }
    target: { connection: out }`;

describe("problem messages", () => {
  test("unknown keys suggest the closest allowed key", async () => {
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    sync: { batch_szie: 10 }`), "integrations.users.sync.batch_szie"), 'unknown key "batch_szie" (did you mean "batch_size"?)');
    assert.equal(await messageAt("version: 1\nintegrationz: {}\n", "integrationz"), 'unknown key "integrationz" (did you mean "integrations"?)');
  });

  test("an unknown key far from every allowed key lists the allowed keys instead", async () => {
    const message = await messageAt(withIntegration(`${endpoints}\n    monitoring: { pager: true }`), "integrations.users.monitoring.pager");
    assert.equal(message, 'unknown key "pager"; allowed keys: alerts');
  });

  test("wrong types say what was expected and what was found", async () => {
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    sync: { batch_size: abc }`), "integrations.users.sync.batch_size"), 'expected an integer, got "abc"');
    assert.equal(await messageAt("version: 1\nintegrations: [a, b]\n", "integrations"), "expected a map, got a list");
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    description: [a]`), "integrations.users.description"), "expected a string, got a list");
  });

  test("enums list the allowed values and suggest the closest", async () => {
    assert.equal(
      await messageAt(withIntegration(`${endpoints}\n    sync: { trigger: continous }`), "integrations.users.sync.trigger"),
      'must be one of: once, continuous, schedule; got "continous" (did you mean "continuous"?)',
    );
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    on_error: 3`), "integrations.users.on_error"), "must be one of: dead_letter, fail; got 3");
  });

  test("numbers out of range give the limit", async () => {
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    sync: { concurrency: -2 }`), "integrations.users.sync.concurrency"), "must be >= 1, got -2");
    assert.equal(
      await messageAt(withIntegration(`${endpoints}\n    monitoring: { alerts: { error_rate_threshold: 5 } }`), "integrations.users.monitoring.alerts.error_rate_threshold"),
      "must be <= 1, got 5",
    );
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    resilience: { retry: { attempts: 0 } }`), "integrations.users.resilience.retry.attempts"), "must be >= 1, got 0");
  });

  test("unions collapse into one message: the branch of the right shape, or what would be accepted", async () => {
    assert.equal(await messageAt('version: 1\nadmin: "off"\n', "admin"), 'expected false or a map, got "off"');
    assert.equal(await messageAt("version: 1\nadmin: { listen: 9464 }\n", "admin.listen"), "expected a string or false, got 9464");
    assert.equal(await messageAt("version: 1\nadmin: { lisen: x }\n", "admin.lisen"), 'unknown key "lisen" (did you mean "listen"?)');
    assert.equal(
      await messageAt(withIntegration(`    source: { connection: db, table: users }\n    target: { connection: db, table: t, mode: upsrt }`), "integrations.users.target.mode"),
      'must be one of: insert, upsert; got "upsrt" (did you mean "upsert"?)',
    );
  });

  test("durations and sizes show the accepted format, also for components' own duration fields", async () => {
    assert.equal(
      await messageAt(withIntegration(`${endpoints}\n    sync: { batch_period: 5 minutes }`), "integrations.users.sync.batch_period"),
      'expected a duration such as "250ms", "30s", "5m", "1h" or a number of milliseconds, got "5 minutes"',
    );
    assert.equal(await messageAt(withIntegration(`${endpoints}\n    sync: { batch_bytes: 4 megabytes }`), "integrations.users.sync.batch_bytes"), 'expected a size such as "512kb", "1mb" or a number of bytes, got "4 megabytes"');
    assert.equal(await messageAt("version: 1\nshutdown_timeout: -5\n", "shutdown_timeout"), 'expected a duration such as "250ms", "30s", "5m", "1h" or a number of milliseconds, got -5');
    assert.match(await messageAt("version: 1\nconnections:\n  db: { type: database, url: x, connect_timeout: 2 secs }\n", "connections.db.connect_timeout"), /^expected a duration such as "250ms"/);
  });

  test("version must be 1", async () => {
    assert.equal(await messageAt("version: 2\n", "version"), "must be 1, got 2");
  });

  test("unknown connector types, connections and transforms suggest the closest name", async () => {
    assert.match(await messageAt("version: 1\nconnections:\n  db: { type: databse }\n", "connections.db.type"), /^unknown connector type "databse" \(did you mean "database"\?\); available types: database, printer$/);
    assert.match(
      await messageAt(withIntegration(`    source: { connection: dbb, table: users }\n    target: { connection: out }`), "integrations.users.source.connection"),
      /^unknown connection "dbb" \(did you mean "db"\?\); defined connections: db, out$/,
    );
    assert.match(
      await messageAt(withIntegration(`${endpoints}\n    transform:\n      - fliter: active`), "integrations.users.transform.0.fliter"),
      /^unknown transform "fliter" \(did you mean "filter"\?\)/,
    );
  });

  test("a connector that cannot be a source says which types can", async () => {
    assert.equal(
      await messageAt(withIntegration(`    source: { connection: out }\n    target: { connection: db, table: t }`), "integrations.users.source.connection"),
      'connection "out" is of type "printer", which cannot be a source; connector types that can be sources: database',
    );
  });

  test("contradictions between sync fields are explained", async () => {
    assert.match(await messageAt(withIntegration(`${endpoints}\n    sync: { schedule: "0 * * * *" }`), "integrations.users.sync.schedule"), /only used with trigger: schedule, but the default trigger is "once"/);
    assert.match(await messageAt(withIntegration(`${endpoints}\n    sync: { trigger: schedule }`), "integrations.users.sync.trigger"), /needs a "schedule"/);
    assert.match(await messageAt(withIntegration(`${endpoints}\n    sync: { trigger: schedule, schedule: "61 * * * *" }`), "integrations.users.sync.schedule"), /^invalid cron expression "61 \* \* \* \*": Invalid value for minute: 61/);
    assert.match(
      await messageAt(withIntegration(`${endpoints}\n    sync: { trigger: schedule, schedule: "0 * * * *", timezone: Mars/Olympus }`), "integrations.users.sync.timezone"),
      /^unknown time zone "Mars\/Olympus"/,
    );
    assert.equal(
      await messageAt(withIntegration(`${endpoints}\n    resilience: { retry: { base_delay: 10s, max_delay: 2s } }`), "integrations.users.resilience.retry.base_delay"),
      "base_delay (10s) is greater than max_delay (2s): the first retry would wait longer than any retry may; lower base_delay or raise max_delay",
    );
  });

  test("connection and integration names must be simple identifiers", async () => {
    const problems = await problemsOf("version: 1\nconnections:\n  My DB: { type: database, url: x }\n");
    const problem = problemAt(problems, "connections.My DB");
    assert.match(problem.message, /^invalid connection name "My DB": use lowercase letters/);
    assert.deepEqual([problem.line, problem.col], [3, 3]);
  });

  test("all problems are collected, not just the first", async () => {
    const problems = await problemsOf(
      withIntegration(`    source: { connection: nope, table: users }
    target: { connection: out, colour: red }
    sync: { batch_size: 0, trigger: sometimes }
    on_error: ignore`),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        "integrations.users.source.connection",
        "integrations.users.target.colour",
        "integrations.users.sync.batch_size",
        "integrations.users.sync.trigger",
        "integrations.users.on_error",
      ],
    );
  });

  test("formatProblems prints file:line:col  path  message, the file relative to cwd", () => {
    const text = formatProblems(
      [
        { file: "/srv/app/junction.yaml", line: 3, col: 7, path: "integrations.users.sync.batch_size", message: 'expected an integer, got "abc"' },
        { file: "/srv/app/junction.yaml", line: 1, col: 1, path: "", message: 'missing required key "version"' },
      ],
      "/srv",
    );
    assert.equal(text, 'app/junction.yaml:3:7  integrations.users.sync.batch_size  expected an integer, got "abc"\napp/junction.yaml:1:1  (root)  missing required key "version"');
  });

  test("closestMatch ignores candidates too far to be a typo", () => {
    assert.equal(closestMatch("batch_szie", ["batch_size", "concurrency"]), "batch_size");
    assert.equal(closestMatch("zzz", ["batch_size", "concurrency"]), undefined);
  });
});
