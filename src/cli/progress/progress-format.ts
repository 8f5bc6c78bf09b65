import type { ProgressSnapshot } from "../../engine/run-progress.js";

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export interface ProgressFigures {
  perSecond: number | undefined;
  etaMs: number | undefined;
}

/** "users: read 120,400 of ~1,000,000 (12%), written 120,000, 34,512 rows/s, ETA 25s" */
export function formatProgress(snapshot: ProgressSnapshot, figures: ProgressFigures): string {
  const { counts, estimatedCount } = snapshot;
  const parts: string[] = [];
  if (estimatedCount !== undefined && estimatedCount > 0) {
    const percent = Math.min(100, Math.floor((counts.read / estimatedCount) * 100));
    parts.push(`read ${number.format(counts.read)} of ~${number.format(estimatedCount)} (${percent}%)`);
  } else {
    parts.push(`read ${number.format(counts.read)}`);
  }
  parts.push(`written ${number.format(counts.written)}`);
  if (counts.deadLettered > 0) parts.push(`dead-lettered ${number.format(counts.deadLettered)}`);
  if (figures.perSecond !== undefined) parts.push(`${number.format(figures.perSecond)} rows/s`);
  if (figures.etaMs !== undefined) parts.push(`ETA ${formatEta(figures.etaMs)}`);
  return `${snapshot.integration}: ${parts.join(", ")}`;
}

export function formatEta(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
