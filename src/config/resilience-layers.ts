import { parseDuration } from "../core/duration.js";
import { isPlainMap } from "./validation/plain-map.js";

type Raw = Record<string, unknown>;

/** Keys that make a breaker count consecutive failures, and keys that make it judge rates. */
export const CONSECUTIVE_BREAKER_KEYS = ["failure_threshold"] as const;
export const RATE_BREAKER_KEYS = ["failure_rate", "window", "minimum_calls", "slow_call_rate", "slow_call_duration"] as const;

/**
 * The blocks of `resilience:` as written on several layers (target connection, then
 * integration), merged key by key: later layers win. A breaker layer that sets a key of one
 * way to open (consecutive or rate-based) drops the other way's keys inherited from before.
 */
export function mergeResilienceBlock(layers: readonly Raw[], block: "circuit_breaker" | "rate_limit" | "bulkhead" | "cache"): Raw | undefined {
  let merged: Raw | undefined;
  for (const layer of layers) {
    const written = layer[block];
    if (!isPlainMap(written)) continue;
    merged = { ...(merged ?? {}) };
    if (block === "circuit_breaker") {
      const writes = (keys: readonly string[]): boolean => keys.some((key) => written[key] !== undefined);
      if (writes(RATE_BREAKER_KEYS)) for (const key of CONSECUTIVE_BREAKER_KEYS) delete merged[key];
      if (writes(CONSECUTIVE_BREAKER_KEYS)) for (const key of RATE_BREAKER_KEYS) delete merged[key];
    }
    for (const [key, value] of Object.entries(written)) if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** A layer's call timeout as written: `timeout: 10s`, `timeout: { duration, strategy }` or the breaker's `timeout` alias. */
export function writtenTimeout(layer: Raw): { duration?: unknown; strategy?: unknown } {
  const timeout = layer.timeout;
  if (isPlainMap(timeout)) return { duration: timeout.duration, strategy: timeout.strategy };
  if (timeout !== undefined) return { duration: timeout };
  const alias = isPlainMap(layer.circuit_breaker) ? layer.circuit_breaker.timeout : undefined;
  return alias !== undefined ? { duration: alias } : {};
}

export type BreakerWindowShape = { kind: "count"; size: number } | { kind: "time"; windowMs: number };

/** `window: 100` (or "100", as an interpolated value reads) is a count of calls; `window: "30s"` a period. */
export function breakerWindowShape(value: unknown): BreakerWindowShape | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 1 ? { kind: "count", size: value } : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return breakerWindowShape(Number(text));
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0 ? { kind: "time", windowMs: ms } : undefined;
}
