import { Cron } from "croner";
import type { Logger } from "pino";
import type { StateStore } from "../state/types.js";

export interface ScheduledJob {
  name: string;
  cron: string;
  timezone?: string;
  /** Runs one pass; the returned promise settles when it is over. */
  run(): Promise<void>;
}

/**
 * Fires cron-scheduled passes. A pass never overlaps the previous one, and across several
 * instances sharing one state store only the holder of the job's lease runs it.
 */
export class Scheduler {
  readonly #crons: Cron[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly state: StateStore,
    private readonly holder: string,
    private readonly logger: Logger,
  ) {}

  add(job: ScheduledJob): void {
    const cron = new Cron(job.cron, { ...(job.timezone ? { timezone: job.timezone } : {}), protect: true }, async () => {
      const pass = this.#pass(job);
      this.#running.add(pass);
      try {
        await pass;
      } finally {
        this.#running.delete(pass);
      }
    });
    this.#crons.push(cron);
    this.logger.info({ integration: job.name, cron: job.cron, next_run: cron.nextRun()?.toISOString() }, "scheduled");
  }

  async #pass(job: ScheduledJob): Promise<void> {
    const lease = `schedule:${job.name}`;
    const ttlMs = 60_000;
    if (!(await this.state.acquireLease(lease, this.holder, ttlMs))) {
      this.logger.debug({ integration: job.name }, "another instance holds the schedule lease; skipping this pass");
      return;
    }
    const renew = setInterval(() => {
      this.state.acquireLease(lease, this.holder, ttlMs).catch((error: unknown) => this.logger.warn({ err: error }, "renewing a schedule lease failed"));
    }, ttlMs / 3);
    try {
      await job.run();
    } catch (error) {
      this.logger.error({ err: error, integration: job.name }, "scheduled run failed");
    } finally {
      clearInterval(renew);
      await this.state.releaseLease(lease, this.holder).catch(() => undefined);
    }
  }

  /** Stops firing and waits for passes in progress. */
  async stop(): Promise<void> {
    for (const cron of this.#crons) cron.stop();
    this.#crons.length = 0;
    await Promise.allSettled([...this.#running]);
  }
}
