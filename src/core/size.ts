const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i;

export const SIZE_FORMAT_HINT = 'a size such as "512kb", "1mb" or a number of bytes';

/** Parses "512kb" | "1mb" | 4096 into bytes; undefined when malformed. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = SIZE_PATTERN.exec(trimmed);
  if (!match) return undefined;
  return Math.floor(Number(match[1]) * (UNIT_BYTES[(match[2] as string).toLowerCase()] as number));
}
