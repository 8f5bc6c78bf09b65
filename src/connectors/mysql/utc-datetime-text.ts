/**
 * The common case of `isoToServer` (datetime-text.ts) without its Date round trip: a UTC
 * ISO-8601 value ("…Z" or "…+00:00", what the sources emit) written in a UTC session
 * (the default `timezone: "Z"`) needs no shift, only "T" → " " and the zone dropped. It
 * runs once per DATETIME value written, so it checks with one regular-expression test and
 * a few digit reads and builds one string. Returns undefined for anything else, which
 * `isoToServer` then converts: other zones, a date or time out of range (which Date.UTC
 * would roll over), and years before 100 (which Date.UTC maps to 19xx).
 */
const UTC_ISO_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]00:?00)$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function utcIsoToServer(text: string, sessionOffset: string): string | undefined {
  if (sessionOffset !== "+00:00" || !UTC_ISO_TEXT.test(text)) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (digits(text, 11, 2) > 23 || digits(text, 14, 2) > 59 || digits(text, 17, 2) > 59) return undefined;
  let end = 19;
  if (text.charCodeAt(19) === 0x2e) {
    // "." and at most six of the fraction's digits, as isoToServer keeps them.
    end = 20;
    while (end < 26 && isDigit(text.charCodeAt(end))) end++;
  }
  return `${text.slice(0, 10)} ${text.slice(11, end)}`;
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let at = from; at < from + count; at++) value = value * 10 + (text.charCodeAt(at) - 0x30);
  return value;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] as number;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}
