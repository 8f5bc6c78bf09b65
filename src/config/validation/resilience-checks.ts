import { parseDuration } from "../../core/duration.js";
import { DEFAULTS } from "../model.js";
import { breakerWindowShape, mergeResilienceBlock } from "../resilience-layers.js";
import { durationText } from "../unit-text.js";
import type { LocatedIssue } from "./located-issue.js";
import { isPlainMap } from "./plain-map.js";

type Path = Array<string | number>;
type Raw = Record<string, unknown>;

/**
 * Contradictions inside one `resilience:` block. `inherited` is the target connection's
 * block, which an integration's block overrides key by key: rules are judged on the merged
 * result, and a problem points at a key written in this block (the connection's own keys
 * are checked with the connection).
 */
export function checkResilience(path: Path, resilience: Raw, inherited: Raw = {}): LocatedIssue[] {
  const layers = [inherited, resilience];
  return [
    ...checkRetryDelays(path, resilience, isPlainMap(inherited.retry) ? inherited.retry : {}),
    ...checkTimeoutAlias(path, resilience),
    ...(isPlainMap(resilience.circuit_breaker) ? checkBreaker([...path, "circuit_breaker"], resilience.circuit_breaker, mergeResilienceBlock(layers, "circuit_breaker") ?? {}) : []),
    ...(isPlainMap(resilience.rate_limit) ? checkRateLimit([...path, "rate_limit"], resilience.rate_limit, mergeResilienceBlock(layers, "rate_limit") ?? {}) : []),
    ...(isPlainMap(resilience.bulkhead) ? checkBulkhead([...path, "bulkhead"], resilience.bulkhead, mergeResilienceBlock(layers, "bulkhead") ?? {}) : []),
    ...(isPlainMap(resilience.cache) ? checkCache([...path, "cache"], resilience.cache, mergeResilienceBlock(layers, "cache") ?? {}) : []),
  ];
}

/** `inherited`: the retry block of the target connection, which the integration's own overrides field by field. */
function checkRetryDelays(path: Path, resilience: Raw, inherited: Raw): LocatedIssue[] {
  if (!isPlainMap(resilience.retry)) return [];
  const retry = resilience.retry;
  if (retry.base_delay === undefined && retry.max_delay === undefined) return [];
  const describe = (key: "base_delay" | "max_delay", fallback: number): { ms: number | undefined; text: (ms: number) => string } => {
    if (retry[key] !== undefined) return { ms: parseDuration(retry[key]), text: (v) => `${key} (${durationText(v)})` };
    if (inherited[key] !== undefined) return { ms: parseDuration(inherited[key]), text: (v) => `the target connection's ${key} (${durationText(v)})` };
    return { ms: fallback, text: (v) => `the default ${key} (${durationText(v)})` };
  };
  const baseField = describe("base_delay", DEFAULTS.retry.baseDelayMs);
  const maxField = describe("max_delay", DEFAULTS.retry.maxDelayMs);
  const base = baseField.ms;
  const max = maxField.ms;
  if (base === undefined || max === undefined || base <= max) return [];
  const at = retry.base_delay !== undefined ? "base_delay" : "max_delay";
  return [{ path: [...path, "retry", at], message: `${baseField.text(base)} is greater than ${maxField.text(max)}: the first retry would wait longer than any retry may; lower base_delay or raise max_delay` }];
}

function checkTimeoutAlias(path: Path, resilience: Raw): LocatedIssue[] {
  const alias = isPlainMap(resilience.circuit_breaker) ? resilience.circuit_breaker.timeout : undefined;
  if (alias === undefined || resilience.timeout === undefined) return [];
  const written = isPlainMap(resilience.timeout) ? resilience.timeout.duration : resilience.timeout;
  const aliasMs = parseDuration(alias);
  const timeoutMs = parseDuration(written);
  if (aliasMs === undefined || timeoutMs === undefined || aliasMs === timeoutMs) return [];
  return [
    {
      path: [...path, "circuit_breaker", "timeout"],
      message: `circuit_breaker.timeout (${durationText(aliasMs)}) contradicts resilience.timeout (${durationText(timeoutMs)}): both set the time limit of a call; keep only resilience.timeout`,
    },
  ];
}

/** The key written last in the block, among `keys` (YAML maps keep the file's order). */
function lastWritten(block: Raw, keys: readonly string[]): string | undefined {
  return Object.keys(block)
    .filter((key) => keys.includes(key) && block[key] !== undefined)
    .at(-1);
}

function firstWritten(block: Raw, keys: readonly string[]): string | undefined {
  return Object.keys(block).find((key) => keys.includes(key) && block[key] !== undefined);
}

function checkBreaker(path: Path, own: Raw, merged: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const rateKeys = ["failure_rate", "slow_call_rate"];
  const rateBased = merged.failure_rate !== undefined || merged.slow_call_rate !== undefined;
  const firstRate = firstWritten(own, rateKeys);
  if (own.failure_threshold !== undefined && firstRate !== undefined) {
    const at = lastWritten(own, ["failure_threshold", firstRate]) ?? firstRate;
    issues.push({
      path: [...path, at],
      message: `failure_threshold (open after that many consecutive failures) and ${firstRate} (open on a rate over a window) are two ways to open the circuit: pick one and remove the other`,
    });
  }

  const windowed = ["window", "minimum_calls"].filter((key) => own[key] !== undefined);
  if (!rateBased && windowed.length > 0) {
    const keys = windowed.join(" and ");
    issues.push({
      path: [...path, windowed[0] as string],
      message: `${keys} only ${windowed.length > 1 ? "apply" : "applies"} to a rate-based breaker: add failure_rate (or slow_call_rate with slow_call_duration), or remove ${keys}${own.failure_threshold !== undefined ? " (failure_threshold counts consecutive failures, without a window)" : ""}`,
    });
  }

  if ((merged.slow_call_rate === undefined) !== (merged.slow_call_duration === undefined)) {
    if (own.slow_call_rate !== undefined && merged.slow_call_duration === undefined) {
      issues.push({ path: [...path, "slow_call_rate"], message: 'slow_call_rate needs slow_call_duration: add how long a call may take before it counts as slow, e.g. slow_call_duration: "2s"' });
    } else if (own.slow_call_duration !== undefined && merged.slow_call_rate === undefined) {
      issues.push({ path: [...path, "slow_call_duration"], message: "slow_call_duration needs slow_call_rate: add the fraction of slow calls that opens the circuit, e.g. slow_call_rate: 0.8, or remove slow_call_duration" });
    }
  }

  let shape: ReturnType<typeof breakerWindowShape>;
  if (own.window !== undefined) {
    shape = breakerWindowShape(own.window);
    // Other kinds of value are the schema's to report.
    if (shape === undefined && typeof own.window === "string") {
      issues.push({ path: [...path, "window"], message: `expected a number of calls (e.g. 100) or a duration with a unit (e.g. "30s"), got ${JSON.stringify(own.window)}` });
    }
  } else {
    shape = breakerWindowShape(merged.window);
  }
  if (rateBased && shape?.kind === "count" && typeof merged.minimum_calls === "number" && merged.minimum_calls > shape.size) {
    const at = own.minimum_calls !== undefined ? "minimum_calls" : own.window !== undefined ? "window" : undefined;
    if (at !== undefined) {
      issues.push({
        path: [...path, at],
        message: `minimum_calls (${merged.minimum_calls}) is greater than the window of ${shape.size} calls, so the circuit could never open: lower minimum_calls or raise window`,
      });
    }
  }
  return issues;
}

function checkRateLimit(path: Path, own: Raw, merged: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (merged.limit === undefined) issues.push(missing(path, "rate_limit", "limit", "the permits allowed per `per`, e.g. limit: 100"));
  if (own.per !== undefined && parseDuration(own.per) === 0) issues.push({ path: [...path, "per"], message: 'per must be longer than 0, e.g. per: "1s"' });
  if (merged.algorithm === "sliding_window" && merged.burst !== undefined) {
    const at = own.burst !== undefined ? "burst" : own.algorithm !== undefined ? "algorithm" : undefined;
    if (at !== undefined) {
      issues.push({ path: [...path, at], message: "burst only applies to algorithm token_bucket (a sliding window allows at most `limit` per `per`): remove burst or use algorithm: token_bucket" });
    }
  }
  issues.push(...checkRedisUrl(path, own.redis));
  return issues;
}

function checkBulkhead(path: Path, own: Raw, merged: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (merged.max_concurrent === undefined) issues.push(missing(path, "bulkhead", "max_concurrent", "the calls allowed at the same time, e.g. max_concurrent: 10"));
  if (merged.queue_timeout !== undefined && (merged.max_queue === undefined || merged.max_queue === 0)) {
    const at = own.queue_timeout !== undefined ? "queue_timeout" : own.max_queue !== undefined ? "max_queue" : undefined;
    const queue = merged.max_queue === undefined ? "the default max_queue is 0" : "max_queue is 0";
    if (at !== undefined) issues.push({ path: [...path, at], message: `queue_timeout limits the wait in the queue, but ${queue} (no call waits): raise max_queue or remove queue_timeout` });
  }
  return issues;
}

function checkCache(path: Path, own: Raw, merged: Raw): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (merged.ttl === undefined) issues.push(missing(path, "cache", "ttl", 'how long a value is kept, e.g. ttl: "1m"'));
  if (own.ttl !== undefined && parseDuration(own.ttl) === 0) issues.push({ path: [...path, "ttl"], message: 'ttl must be longer than 0 (remove cache to disable it), e.g. ttl: "1m"' });
  issues.push(...checkRedisUrl(path, own.redis));
  return issues;
}

function missing(path: Path, block: string, key: string, what: string): LocatedIssue {
  return { path, at: "key", message: `${block} needs "${key}": add ${what}` };
}

/** The URL is a secret: the message never repeats it. */
function checkRedisUrl(path: Path, url: unknown): LocatedIssue[] {
  if (typeof url !== "string") return [];
  if (isRedisUrl(url)) return [];
  return [{ path: [...path, "redis"], message: 'expected a Redis URL starting with redis:// or rediss://, e.g. "redis://127.0.0.1:6379" (with a password: "redis://:password@host:6379")' }];
}

function isRedisUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "redis:" || parsed.protocol === "rediss:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}
