/**
 * DATETIME/TIMESTAMP values travel as text so microseconds survive: the server's
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" in the session time zone on one side, ISO-8601 with an
 * explicit offset on the other. The fraction is copied as text, never through a Date.
 */
const SERVER_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,6})?$/;
const ISO_TEXT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The binary protocol drops an all-zero fraction ("… 00:00:00" for a DATETIME(6)); pad it
 * back to the column's `decimals` so one value always has one spelling.
 */
export function padFraction(text: string, decimals: number): string {
  const match = SERVER_TEXT.exec(text);
  if (!match || decimals <= 0 || decimals > 6) return text;
  const fraction = (match[3] ?? ".").slice(1).padEnd(decimals, "0");
  return `${match[1]} ${match[2]}.${fraction}`;
}

/** "2024-01-02 03:04:05.123456" → "2024-01-02T03:04:05.123456Z" (zero dates are left as they are). */
export function serverToIso(text: string, sessionOffset: string): string {
  const match = SERVER_TEXT.exec(text);
  if (!match || text.startsWith("0000")) return text;
  const suffix = sessionOffset === "+00:00" ? "Z" : sessionOffset;
  return `${match[1]}T${match[2]}${match[3] ?? ""}${suffix}`;
}

/** ISO-8601 with an offset → server text in the session time zone; undefined when `text` is not ISO with an offset. */
export function isoToServer(text: string, sessionOffset: string): string | undefined {
  const match = ISO_TEXT.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = "", offset] = match as unknown as string[];
  const shiftMinutes = offsetMinutes(sessionOffset) - offsetMinutes(offset as string);
  const epoch = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) + shiftMinutes * 60_000;
  const local = new Date(epoch).toISOString(); // whole seconds: the fraction is appended as text
  return `${local.slice(0, 10)} ${local.slice(11, 19)}${fraction.slice(0, 7)}`;
}

function offsetMinutes(offset: string): number {
  if (offset.toUpperCase() === "Z") return 0;
  const digits = offset.replace(":", "");
  const sign = digits.startsWith("-") ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
}
