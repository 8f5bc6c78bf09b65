/**
 * How long a failed call asked us to wait, in milliseconds, or undefined when it did not say.
 * Reads, in order: `retryAfterMs` (JunctionError and our connectors), then `retryAfter` as the
 * HTTP header value: a number of seconds (number or digit string) or an HTTP-date.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) return ms;
  const header = (error as { retryAfter?: unknown }).retryAfter;
  if (typeof header === "number" || typeof header === "string") return parseRetryAfter(header, now);
  return undefined;
}

/** Parses a Retry-After header value (seconds or HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(value: number | string, now: number = Date.now()): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
