import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildJsonSchema, DEFAULTS, loadConfigFromString, renderResolvedConfig } from "../../src/config/index.js";
import type { LoadedConfig, ResilienceConfig } from "../../src/config/index.js";
import { problemsOf } from "./config-problems.js";
import { testComponents } from "./test-components.js";

/** The integration's `resilience:` key is on line 12; `block` lines start on line 13, indented 6 spaces. */
function withResilience(block: string): string {
  return `version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
  out:
    type: printer
integrations:
  users:
    source: { connection: db, table: users }
    target: { connection: out }
    resilience:
${block
  .split("\n")
  .map((line) => `      ${line}`)
  .join("\n")}
`;
}

async function load(text: string, env: Record<string, string> = {}): Promise<LoadedConfig> {
  return loadConfigFromString(text, "junction.yaml", testComponents, { env });
}

async function resilienceOf(block: string): Promise<ResilienceConfig> {
  const resilience = (await load(withResilience(block))).config.integrations.users?.resilience;
  assert.ok(resilience);
  return resilience;
}

const base: ResilienceConfig = { retry: { ...DEFAULTS.retry }, timeoutMs: 0, timeoutStrategy: "cooperative" };

/** The one problem of a config: [line, col, path, message]. */
async function onlyProblem(text: string): Promise<[number, number, string, string]> {
  const problems = await problemsOf(text);
  assert.equal(problems.length, 1, problems.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`).join("\n"));
  const [p] = problems;
  assert.ok(p);
  return [p.line, p.col, p.path, p.message];
}

async function assertProblem(text: string, line: number, col: number, path: string, message: RegExp): Promise<void> {
  const [l, c, where, text_] = await onlyProblem(text);
  assert.deepEqual([l, c, where], [line, col, path], text_);
  assert.match(text_, message);
}

const R = "integrations.users.resilience";

describe("resilience blocks normalise to the model", () => {
  test("without the new blocks nothing is added", async () => {
    assert.deepEqual(await resilienceOf("retry: { attempts: 2 }"), { ...base, retry: { ...DEFAULTS.retry, attempts: 2 } });
  });

  test("timeout as a duration or as { duration, strategy }", async () => {
    assert.deepEqual(await resilienceOf("timeout: 10s"), { ...base, timeoutMs: 10_000 });
    assert.deepEqual(await resilienceOf("timeout: { duration: 2s, strategy: aggressive }"), { ...base, timeoutMs: 2000, timeoutStrategy: "aggressive" });
    assert.deepEqual(await resilienceOf("timeout: { duration: 2s, strategy: cooperative }"), { ...base, timeoutMs: 2000 });
  });

  test("circuit_breaker.timeout is the call timeout, and may repeat resilience.timeout", async () => {
    const consecutive = { window: { kind: "consecutive", failureThreshold: 5 }, openDurationMs: 30_000, halfOpenMaxProbes: 1, successThreshold: 1 } as const;
    assert.deepEqual(await resilienceOf("circuit_breaker: { timeout: 5s }"), { ...base, timeoutMs: 5000, circuitBreaker: consecutive });
    assert.deepEqual(await resilienceOf("timeout: 5000\ncircuit_breaker: { timeout: 5s }"), { ...base, timeoutMs: 5000, circuitBreaker: consecutive });
  });

  test("an empty breaker counts 5 consecutive failures, with the defaults", async () => {
    assert.deepEqual((await resilienceOf("circuit_breaker: {}")).circuitBreaker, {
      window: { kind: "consecutive", failureThreshold: 5 },
      openDurationMs: 30_000,
      halfOpenMaxProbes: 1,
      successThreshold: 1,
    });
    assert.deepEqual((await resilienceOf("circuit_breaker: { failure_threshold: 3, reset_timeout: 1m, half_open_probes: 1, success_threshold: 2 }")).circuitBreaker, {
      window: { kind: "consecutive", failureThreshold: 3 },
      openDurationMs: 60_000,
      halfOpenMaxProbes: 1,
      successThreshold: 2,
    });
  });

  test("a rate-based breaker over a count window, with slow calls", async () => {
    const breaker = (
      await resilienceOf(`circuit_breaker:
  failure_rate: 0.5
  window: 100
  minimum_calls: 10
  slow_call_duration: 2s
  slow_call_rate: 0.8
  reset_timeout: 45s
  half_open_probes: 3
  success_threshold: 2`)
    ).circuitBreaker;
    assert.deepEqual(breaker, {
      window: { kind: "count", size: 100, minimumCalls: 10, failureRateThreshold: 0.5, slowCallRateThreshold: 0.8, slowCallDurationMs: 2000 },
      openDurationMs: 45_000,
      halfOpenMaxProbes: 3,
      successThreshold: 2,
    });
  });

  test("window defaults: 100 calls, minimum_calls 20 but never more than the window, failure_rate 0.5 with slow calls alone", async () => {
    assert.deepEqual((await resilienceOf("circuit_breaker: { failure_rate: 0.25 }")).circuitBreaker?.window, { kind: "count", size: 100, minimumCalls: 20, failureRateThreshold: 0.25 });
    assert.deepEqual((await resilienceOf("circuit_breaker: { failure_rate: 0.25, window: 8 }")).circuitBreaker?.window, { kind: "count", size: 8, minimumCalls: 8, failureRateThreshold: 0.25 });
    assert.deepEqual((await resilienceOf("circuit_breaker: { slow_call_rate: 0.9, slow_call_duration: 1500 }")).circuitBreaker?.window, {
      kind: "count",
      size: 100,
      minimumCalls: 20,
      failureRateThreshold: 0.5,
      slowCallRateThreshold: 0.9,
      slowCallDurationMs: 1500,
    });
  });

  test("a duration window is a time window of 10 buckets", async () => {
    assert.deepEqual((await resilienceOf('circuit_breaker: { failure_rate: 1, window: "30s", minimum_calls: 50 }')).circuitBreaker?.window, {
      kind: "time",
      windowMs: 30_000,
      buckets: 10,
      minimumCalls: 50,
      failureRateThreshold: 1,
    });
    assert.deepEqual((await resilienceOf("circuit_breaker: { failure_rate: 0.5, window: 2m }")).circuitBreaker?.window, {
      kind: "time",
      windowMs: 120_000,
      buckets: 10,
      minimumCalls: 20,
      failureRateThreshold: 0.5,
    });
  });

  test("an interpolated window or limit reads as a number", async () => {
    const loaded = await load(withResilience("circuit_breaker: { failure_rate: 0.5, window: \"${WINDOW}\" }\nrate_limit: { limit: \"${LIMIT}\" }"), { WINDOW: "40", LIMIT: "7" });
    const resilience = loaded.config.integrations.users?.resilience;
    assert.deepEqual(resilience?.circuitBreaker?.window, { kind: "count", size: 40, minimumCalls: 20, failureRateThreshold: 0.5 });
    assert.equal(resilience?.rateLimit?.limit, 7);
  });

  test("rate_limit defaults: per 1s, burst = limit, token_bucket, wait", async () => {
    assert.deepEqual((await resilienceOf("rate_limit: { limit: 100 }")).rateLimit, { algorithm: "token_bucket", limit: 100, perMs: 1000, burst: 100, wait: true });
    assert.deepEqual((await resilienceOf("rate_limit: { limit: 10, per: 1m, burst: 30, wait: false }")).rateLimit, { algorithm: "token_bucket", limit: 10, perMs: 60_000, burst: 30, wait: false });
    assert.deepEqual((await resilienceOf('rate_limit: { limit: 5, algorithm: sliding_window, redis: "rediss://:pw-1234@cache.internal:6380/2" }')).rateLimit, {
      algorithm: "sliding_window",
      limit: 5,
      perMs: 1000,
      burst: 5,
      wait: true,
      redisUrl: "rediss://:pw-1234@cache.internal:6380/2",
    });
  });

  test("bulkhead and cache", async () => {
    assert.deepEqual((await resilienceOf("bulkhead: { max_concurrent: 10 }")).bulkhead, { maxConcurrent: 10, maxQueue: 0 });
    assert.deepEqual((await resilienceOf("bulkhead: { max_concurrent: 2, max_queue: 50, queue_timeout: 5s }")).bulkhead, { maxConcurrent: 2, maxQueue: 50, queueTimeoutMs: 5000 });
    assert.deepEqual((await resilienceOf("cache: { ttl: 1m }")).cache, { ttlMs: 60_000, maxEntries: 10_000 });
    assert.deepEqual((await resilienceOf('cache: { ttl: 250ms, max_entries: 5, redis: "redis://127.0.0.1:6379" }')).cache, { ttlMs: 250, maxEntries: 5, redisUrl: "redis://127.0.0.1:6379" });
  });

  test("an integration's blocks override its target connection's key by key", async () => {
    const loaded = await load(`version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
    resilience:
      timeout: { duration: 8s, strategy: aggressive }
      circuit_breaker: { failure_threshold: 3, reset_timeout: 10s }
      rate_limit: { limit: 10, burst: 20 }
      bulkhead: { max_concurrent: 4, max_queue: 8, queue_timeout: 1s }
      cache: { ttl: 1m, redis: "redis://cache:6379" }
  out:
    type: printer
integrations:
  copy:
    source: { connection: db, table: a }
    target: { connection: db, table: b }
    resilience:
      timeout: 2s
      circuit_breaker: { failure_rate: 0.5, window: 50 }
      rate_limit: { wait: false }
      cache: { max_entries: 3 }
  other:
    source: { connection: db, table: a }
    target: { connection: out }
    resilience: { bulkhead: { max_concurrent: 1 } }
`);
    const { connections, integrations } = loaded.config;
    assert.deepEqual(connections.db?.resilience, {
      ...base,
      timeoutMs: 8000,
      timeoutStrategy: "aggressive",
      circuitBreaker: { window: { kind: "consecutive", failureThreshold: 3 }, openDurationMs: 10_000, halfOpenMaxProbes: 1, successThreshold: 1 },
      rateLimit: { algorithm: "token_bucket", limit: 10, perMs: 1000, burst: 20, wait: true },
      bulkhead: { maxConcurrent: 4, maxQueue: 8, queueTimeoutMs: 1000 },
      cache: { ttlMs: 60_000, maxEntries: 10_000, redisUrl: "redis://cache:6379" },
    });
    assert.deepEqual(integrations.copy?.resilience, {
      ...base,
      timeoutMs: 2000,
      timeoutStrategy: "aggressive",
      // Rate keys switch the breaker to rate-based: the inherited failure_threshold is dropped, reset_timeout kept.
      circuitBreaker: { window: { kind: "count", size: 50, minimumCalls: 20, failureRateThreshold: 0.5 }, openDurationMs: 10_000, halfOpenMaxProbes: 1, successThreshold: 1 },
      rateLimit: { algorithm: "token_bucket", limit: 10, perMs: 1000, burst: 20, wait: false },
      bulkhead: { maxConcurrent: 4, maxQueue: 8, queueTimeoutMs: 1000 },
      cache: { ttlMs: 60_000, maxEntries: 3, redisUrl: "redis://cache:6379" },
    });
    // A target connection without resilience passes nothing on.
    assert.deepEqual(integrations.other?.resilience, { ...base, bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
  });

  test("failure_threshold on the integration switches an inherited rate-based breaker back to consecutive", async () => {
    const loaded = await load(`version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
    resilience: { circuit_breaker: { failure_rate: 0.5, window: 20, minimum_calls: 5, success_threshold: 2 } }
integrations:
  copy:
    source: { connection: db, table: a }
    target: { connection: db, table: b }
    resilience: { circuit_breaker: { failure_threshold: 7 } }
`);
    assert.deepEqual(loaded.config.integrations.copy?.resilience.circuitBreaker, {
      window: { kind: "consecutive", failureThreshold: 7 },
      openDurationMs: 30_000,
      halfOpenMaxProbes: 1,
      successThreshold: 2,
    });
  });
});

describe("redis URLs are secrets", () => {
  test("the URL and its password are redacted, the path is known and `config print` blanks it", async () => {
    const loaded = await load(withResilience('rate_limit: { limit: 1, redis: "redis://app:s3cret-pass@redis.internal:6379/0" }\ncache: { ttl: 1s, redis: "redis://:other%2Dpw@redis.internal:6379" }'));
    assert.ok(loaded.redactor.has("redis://app:s3cret-pass@redis.internal:6379/0"));
    assert.ok(loaded.redactor.has("s3cret-pass"));
    assert.ok(loaded.redactor.has("other-pw"));
    assert.deepEqual(loaded.secretPaths, [
      ["integrations", "users", "resilience", "rate_limit", "redis"],
      ["integrations", "users", "resilience", "cache", "redis"],
    ]);
    assert.equal(loaded.redactor.redact("AUTH failed for s3cret-pass"), "AUTH failed for [redacted]");
    const printed = renderResolvedConfig(loaded);
    assert.ok(!printed.includes("s3cret-pass") && !printed.includes("other"), printed);
    assert.match(printed, /redis: "?\[redacted\]"?/);
  });

  test("the JSON Schema marks them writeOnly and describes every block", () => {
    const schema = buildJsonSchema(testComponents) as { properties: { integrations: { additionalProperties: { properties: { resilience: { properties: Record<string, { description?: string; properties?: Record<string, { writeOnly?: boolean }> }> } } } } } };
    const resilience = schema.properties.integrations.additionalProperties.properties.resilience.properties;
    for (const block of ["retry", "timeout", "circuit_breaker", "rate_limit", "bulkhead", "cache"]) assert.ok(resilience[block]?.description, block);
    assert.equal(resilience.rate_limit?.properties?.redis?.writeOnly, true);
    assert.equal(resilience.cache?.properties?.redis?.writeOnly, true);
  });
});

describe("contradictions: one problem each, at the offending key", () => {
  test("failure_threshold with failure_rate, at whichever is written second", async () => {
    // line 14 `        failure_threshold: 5`, line 15 `        failure_rate: 0.5`
    await assertProblem(withResilience("circuit_breaker:\n  failure_threshold: 5\n  failure_rate: 0.5"), 15, 23, `${R}.circuit_breaker.failure_rate`, /pick one and remove the other/);
    await assertProblem(withResilience("circuit_breaker:\n  failure_rate: 0.5\n  failure_threshold: 5"), 15, 28, `${R}.circuit_breaker.failure_threshold`, /failure_threshold .* and failure_rate/);
  });

  test("window or minimum_calls without a rate", async () => {
    await assertProblem(withResilience("circuit_breaker:\n  window: 100"), 14, 17, `${R}.circuit_breaker.window`, /window only applies to a rate-based breaker: add failure_rate/);
    await assertProblem(withResilience("circuit_breaker:\n  minimum_calls: 10"), 14, 24, `${R}.circuit_breaker.minimum_calls`, /minimum_calls only applies/);
    await assertProblem(withResilience("circuit_breaker:\n  failure_threshold: 3\n  window: 30s"), 15, 17, `${R}.circuit_breaker.window`, /failure_threshold counts consecutive failures/);
  });

  test("slow_call_rate and slow_call_duration need each other", async () => {
    await assertProblem(withResilience("circuit_breaker:\n  slow_call_rate: 0.8"), 14, 25, `${R}.circuit_breaker.slow_call_rate`, /needs slow_call_duration/);
    await assertProblem(withResilience("circuit_breaker:\n  failure_rate: 0.5\n  slow_call_duration: 2s"), 15, 29, `${R}.circuit_breaker.slow_call_duration`, /needs slow_call_rate/);
  });

  test("minimum_calls over a count window", async () => {
    await assertProblem(withResilience("circuit_breaker:\n  failure_rate: 0.5\n  window: 10\n  minimum_calls: 20"), 16, 24, `${R}.circuit_breaker.minimum_calls`, /minimum_calls \(20\) is greater than the window of 10 calls/);
  });

  test("a window that is neither a count nor a duration", async () => {
    await assertProblem(withResilience('circuit_breaker:\n  failure_rate: 0.5\n  window: "soon"'), 15, 17, `${R}.circuit_breaker.window`, /expected a number of calls \(e.g. 100\) or a duration with a unit/);
    await assertProblem(withResilience("circuit_breaker:\n  failure_rate: 0.5\n  window: 0"), 15, 17, `${R}.circuit_breaker.window`, /./);
  });

  test("circuit_breaker.timeout and resilience.timeout that differ", async () => {
    await assertProblem(withResilience("timeout: 10s\ncircuit_breaker:\n  timeout: 5s"), 15, 18, `${R}.circuit_breaker.timeout`, /circuit_breaker.timeout \(5s\) contradicts resilience.timeout \(10s\)/);
    await assertProblem(withResilience("timeout: { duration: 1m }\ncircuit_breaker: { timeout: 30s }"), 14, 35, `${R}.circuit_breaker.timeout`, /keep only resilience.timeout/);
  });

  test("counts below 1 and rates outside (0, 1]", async () => {
    await assertProblem(withResilience("circuit_breaker:\n  success_threshold: 0"), 14, 28, `${R}.circuit_breaker.success_threshold`, /must be >= 1, got 0/);
    await assertProblem(withResilience("circuit_breaker:\n  failure_rate: 1.5"), 14, 23, `${R}.circuit_breaker.failure_rate`, /must be <= 1, got 1.5/);
    await assertProblem(withResilience("rate_limit:\n  limit: 0"), 14, 16, `${R}.rate_limit.limit`, /must be >= 1, got 0/);
    await assertProblem(withResilience("rate_limit:\n  limit: 5\n  burst: 0"), 15, 16, `${R}.rate_limit.burst`, /must be >= 1, got 0/);
  });

  test("burst with a sliding window", async () => {
    await assertProblem(withResilience("rate_limit:\n  limit: 5\n  algorithm: sliding_window\n  burst: 10"), 16, 16, `${R}.rate_limit.burst`, /burst only applies to algorithm token_bucket/);
  });

  test("queue_timeout without a queue", async () => {
    await assertProblem(withResilience("bulkhead:\n  max_concurrent: 2\n  queue_timeout: 5s"), 15, 24, `${R}.bulkhead.queue_timeout`, /the default max_queue is 0/);
    await assertProblem(withResilience("bulkhead:\n  max_concurrent: 2\n  max_queue: 0\n  queue_timeout: 5s"), 16, 24, `${R}.bulkhead.queue_timeout`, /max_queue is 0 \(no call waits\): raise max_queue or remove queue_timeout/);
  });

  test("a redis URL of another scheme, not repeated in the message", async () => {
    const [line, col, path, message] = await onlyProblem(withResilience('rate_limit:\n  limit: 5\n  redis: "http://user:hunter22@cache:6379"'));
    assert.deepEqual([line, col, path], [15, 16, `${R}.rate_limit.redis`]);
    assert.match(message, /expected a Redis URL starting with redis:\/\/ or rediss:\/\//);
    assert.ok(!message.includes("hunter22"));
    await assertProblem(withResilience('cache:\n  ttl: 1m\n  redis: "127.0.0.1:6379"'), 15, 16, `${R}.cache.redis`, /redis:\/\//);
  });

  test("a block without its one required key, at the block's key", async () => {
    await assertProblem(withResilience("rate_limit: { per: 1s }"), 13, 7, `${R}.rate_limit`, /rate_limit needs "limit"/);
    await assertProblem(withResilience("bulkhead: { max_queue: 3 }"), 13, 7, `${R}.bulkhead`, /bulkhead needs "max_concurrent"/);
    await assertProblem(withResilience("cache: { max_entries: 3 }"), 13, 7, `${R}.cache`, /cache needs "ttl"/);
  });

  test("timeout in a form neither a duration nor { duration, strategy }", async () => {
    await assertProblem(withResilience("timeout: soon"), 13, 16, `${R}.timeout`, /expected a duration such as "250ms".* or a map, got "soon"/);
    await assertProblem(withResilience("timeout: { duration: 1s, strategy: brutal }"), 13, 42, `${R}.timeout.strategy`, /must be one of: cooperative, aggressive/);
  });

  test("the base_delay > max_delay check still works", async () => {
    await assertProblem(withResilience("retry: { base_delay: 10s, max_delay: 2s }"), 13, 28, `${R}.retry.base_delay`, /base_delay \(10s\) is greater than max_delay \(2s\)/);
  });
});

describe("contradictions with what the target connection sets", () => {
  const withConnection = (connection: string, integration: string): string => `version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
    resilience: ${connection}
integrations:
  copy:
    source: { connection: db, table: a }
    target: { connection: db, table: b }
    resilience: ${integration}
`;

  test("are reported at the integration's key", async () => {
    // line 11 `    resilience: { circuit_breaker: { minimum_calls: 200 } }`
    await assertProblem(
      withConnection("{ circuit_breaker: { failure_rate: 0.5, window: 100 } }", "{ circuit_breaker: { minimum_calls: 200 } }"),
      11,
      53,
      "integrations.copy.resilience.circuit_breaker.minimum_calls",
      /minimum_calls \(200\) is greater than the window of 100 calls/,
    );
    await assertProblem(
      withConnection("{ rate_limit: { limit: 5, algorithm: sliding_window } }", "{ rate_limit: { burst: 9 } }"),
      11,
      40,
      "integrations.copy.resilience.rate_limit.burst",
      /burst only applies/,
    );
  });

  test("a partial block completed by the connection is fine", async () => {
    const loaded = await load(withConnection("{ rate_limit: { limit: 5 }, circuit_breaker: { failure_rate: 0.5 } }", "{ rate_limit: { per: 1m }, circuit_breaker: { window: 10 } }"));
    const resilience = loaded.config.integrations.copy?.resilience;
    assert.deepEqual(resilience?.rateLimit, { algorithm: "token_bucket", limit: 5, perMs: 60_000, burst: 5, wait: true });
    assert.deepEqual(resilience?.circuitBreaker?.window, { kind: "count", size: 10, minimumCalls: 10, failureRateThreshold: 0.5 });
  });

  test("a mistake written on the connection is reported there only", async () => {
    await assertProblem(withConnection("{ bulkhead: { max_concurrent: 1, queue_timeout: 1s } }", "{ bulkhead: { max_concurrent: 2 } }"), 6, 65, "connections.db.resilience.bulkhead.queue_timeout", /raise max_queue/);
  });
});
