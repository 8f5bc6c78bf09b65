const DURATION_UNITS: Array<[number, string]> = [
  [3_600_000, "h"],
  [60_000, "m"],
  [1000, "s"],
];
const SIZE_UNITS: Array<[number, string]> = [
  [1024 ** 3, "gb"],
  [1024 ** 2, "mb"],
  [1024, "kb"],
];

/** Exact duration text that loads back to the same value: 30000 → "30s", 1500 → "1500ms". */
export function durationText(ms: number): string {
  for (const [size, unit] of DURATION_UNITS) if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Exact size: 1048576 → "1mb", 1000 → 1000. */
export function sizeText(bytes: number): string | number {
  for (const [size, unit] of SIZE_UNITS) if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  return bytes;
}
