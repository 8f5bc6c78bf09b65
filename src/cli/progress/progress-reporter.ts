import type { Logger } from "pino";
import type { ProgressSnapshot } from "../../engine/run-progress.js";
import { formatProgress } from "./progress-format.js";
import { ProgressRate } from "./progress-rate.js";
import type { StatusLine } from "./status-line.js";

export type ProgressOutput = { kind: "tty"; status: StatusLine; refreshMs?: number } | { kind: "log"; logger: Logger; everyMs?: number };

export interface ProgressReporterOptions {
  /** The runs in progress right now. */
  runs: () => ProgressSnapshot[];
  output: ProgressOutput;
  /** Runs younger than this are not shown (short runs stay quiet). Default 1 s on a TTY, the log interval otherwise. */
  quietMs?: number;
  now?: () => number;
}

/**
 * Shows how long syncs are doing: on a terminal a status line per run redrawn in place
 * (rows, rows/s, ETA when the source knows its size); elsewhere a plain log line per run
 * every `everyMs`.
 */
export class ProgressReporter {
  readonly #options: ProgressReporterOptions;
  readonly #rates = new Map<string, ProgressRate>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressReporterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    const output = this.#options.output;
    const every = output.kind === "tty" ? (output.refreshMs ?? 250) : (output.everyMs ?? 10_000);
    this.#timer = setInterval(() => this.tick(), every);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#options.output.kind === "tty") this.#options.output.status.clear();
  }

  /** One refresh; public so tests can drive it without timers. */
  tick(): void {
    const now = this.#now();
    const output = this.#options.output;
    const quietMs = this.#options.quietMs ?? (output.kind === "tty" ? 1000 : (output.everyMs ?? 10_000));
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const run of this.#options.runs()) {
      seen.add(run.runId);
      let rate = this.#rates.get(run.runId);
      if (rate === undefined) {
        rate = new ProgressRate();
        this.#rates.set(run.runId, rate);
      }
      rate.sample(now, run.counts.read);
      if (now - run.startedAt < quietMs) continue;
      const figures = { perSecond: rate.perSecond(), etaMs: rate.etaMs(run.estimatedCount) };
      const line = formatProgress(run, figures);
      if (output.kind === "tty") lines.push(line);
      else {
        output.logger.info(
          {
            integration: run.integration,
            run_id: run.runId,
            read: run.counts.read,
            written: run.counts.written,
            rows_per_second: figures.perSecond === undefined ? undefined : Math.round(figures.perSecond),
            estimated_count: run.estimatedCount,
            eta_seconds: figures.etaMs === undefined ? undefined : Math.ceil(figures.etaMs / 1000),
          },
          `progress ${line}`,
        );
      }
    }
    for (const runId of this.#rates.keys()) if (!seen.has(runId)) this.#rates.delete(runId);
    if (output.kind === "tty") output.status.show(lines);
  }
}
