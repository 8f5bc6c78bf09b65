import type { RunCounts, StateStore } from "../state/types.js";

/** A live view of one run, for progress displays. */
export interface ProgressSnapshot {
  integration: string;
  runId: string;
  /** Epoch ms when the run started. */
  startedAt: number;
  counts: RunCounts;
  /** What the source expected to read (full reads), when it could tell. */
  estimatedCount?: number;
}

/**
 * Counters of one run. Long (continuous) runs push their deltas to the run history
 * every `flushEveryMs`, so `junction runs` shows progress while they go on.
 */
export class RunProgress {
  readonly counts: RunCounts = { read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 };
  #reported: RunCounts = { read: 0, written: 0, filtered: 0, deadLettered: 0, retried: 0 };
  #lastFlush = Date.now();
  /** What the source expects to read in this run, when it can tell (full reads): drives the ETA. */
  estimatedCount: number | undefined;
  readonly startedAt = Date.now();

  constructor(
    private readonly state: StateStore,
    private readonly runId: string,
    private readonly flushEveryMs = 5000,
  ) {}

  snapshot(integration: string): ProgressSnapshot {
    const snapshot: ProgressSnapshot = { integration, runId: this.runId, startedAt: this.startedAt, counts: { ...this.counts } };
    if (this.estimatedCount !== undefined) snapshot.estimatedCount = this.estimatedCount;
    return snapshot;
  }

  /** Writes the deltas since the last report when enough time passed; never throws. */
  async maybeFlush(): Promise<void> {
    if (Date.now() - this.#lastFlush < this.flushEveryMs) return;
    this.#lastFlush = Date.now();
    const now = { ...this.counts };
    const delta: RunCounts = {
      read: now.read - this.#reported.read,
      written: now.written - this.#reported.written,
      filtered: now.filtered - this.#reported.filtered,
      deadLettered: now.deadLettered - this.#reported.deadLettered,
      retried: now.retried - this.#reported.retried,
    };
    this.#reported = now;
    try {
      await this.state.updateRun(this.runId, delta);
    } catch {
      // Progress is informative; the final counts are written by finishRun.
    }
  }
}
