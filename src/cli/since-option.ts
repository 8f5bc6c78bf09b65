import { CliError } from "./cli-error.js";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const AGO_PATTERN = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
// A date, optionally with a time and a zone: what `new Date()` reads the same on every platform.
const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export const SINCE_FORMS = 'a duration ago such as "30m", "2h", "7d" or "1w", or an ISO time such as 2026-01-31 or 2026-01-31T12:00:00Z';

/**
 * The instant a `--since` value names: "<n><unit>" that long before `now`, or an ISO date/time.
 * A bare number is refused: it is unclear whether it means milliseconds, seconds or a year.
 */
export function parseSince(value: string, option = "--since", now: number = Date.now()): Date {
  const trimmed = value.trim();
  const ago = AGO_PATTERN.exec(trimmed);
  if (ago) return new Date(now - Number(ago[1]) * (UNIT_MS[ago[2] as string] as number));
  if (ISO_PATTERN.test(trimmed)) {
    const date = new Date(trimmed);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new CliError(`${option} must be ${SINCE_FORMS}; got "${value}"`);
}
