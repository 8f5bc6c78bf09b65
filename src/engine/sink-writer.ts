import type { Sink, WriteOptions, WriteOutcome } from "../connectors/types.js";
import { sleep } from "../core/abort.js";
import { JunctionError, errorKind } from "../core/errors.js";
import { withAttempt } from "../core/message.js";
import type { Message } from "../core/message.js";
import type { RetryConfig } from "../config/model.js";
import { backoffDelay, withRetryAfter } from "../resilience/backoff.js";
import { noopPolicy } from "../resilience/policy.js";
import type { Policy } from "../resilience/policy.js";
import type { WorkItem } from "./work-item.js";

export interface SinkWriterHooks {
  /** The item was durably accepted by the sink. */
  written(item: WorkItem): void;
  /** `count` items of one sink call were accepted (after their `written` calls): one call per write, for counters. */
  writtenCount?(count: number): void;
  /** The item failed permanently or ran out of attempts; returns once it is dead-lettered (or throws to stop the run). */
  failed(item: WorkItem, error: unknown, attempts: number): Promise<void>;
  /** `count` items are about to be retried after `delayMs`. */
  retrying(count: number, delayMs: number, attempt: number): void;
  /** Duration of one sink write call in seconds and whether every message succeeded. */
  observed(seconds: number, size: number, failures: number): void;
}

export interface WriteSignals {
  /** Stop retrying (graceful shutdown): unsettled items stay unacknowledged and are delivered again. */
  stop: AbortSignal;
  /** Cancel the write in progress (shutdown timeout passed). */
  abort: AbortSignal;
}

/**
 * Writes one sink batch with bounded retries: only the messages the sink reports as
 * failed are retried, with backoff and jitter honouring Retry-After; permanent failures
 * and exhausted retries go to `hooks.failed` (the dead-letter store).
 */
export class SinkWriter {
  /**
   * @param retry how often and how long failed messages are retried
   * @param call the policies around each single write (circuit breaker, rate limit, bulkhead, timeout)
   */
  constructor(
    private readonly sink: Sink,
    private readonly retry: RetryConfig,
    private readonly hooks: SinkWriterHooks,
    private readonly call: Policy = noopPolicy,
  ) {}

  /** `options` (a checkpoint to commit with the rows) is offered on every attempt: a retry that succeeds entirely settles the same batches. */
  async write(items: WorkItem[], signals: WriteSignals, options?: WriteOptions): Promise<void> {
    const retry = this.retry;
    let pending = items;
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      const failures = await this.#attempt(pending, signals.abort, options);
      if (failures.size === 0) {
        for (const item of pending) this.hooks.written(item);
        this.hooks.writtenCount?.(pending.length);
        return;
      }
      const again: WorkItem[] = [];
      let retryAfterMs: number | undefined;
      let written = 0;
      for (let index = 0; index < pending.length; index++) {
        const item = pending[index] as WorkItem;
        if (!failures.has(index)) {
          this.hooks.written(item);
          written++;
          continue;
        }
        const error = failures.get(index);
        const kind = errorKind(error);
        if (kind === "config" || kind === "auth") throw error;
        if (kind === "transient" && attempt < retry.attempts && !signals.stop.aborted) {
          again.push(item);
          const after = error instanceof JunctionError ? error.retryAfterMs : undefined;
          if (after !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, after);
        } else {
          await this.hooks.failed(item, error, attempt);
        }
      }
      if (written > 0) this.hooks.writtenCount?.(written);
      if (again.length === 0) return;
      const delay = withRetryAfter(backoffDelay(retry, attempt, previousDelay), retryAfterMs);
      previousDelay = delay;
      this.hooks.retrying(again.length, delay, attempt);
      try {
        await sleep(delay, signals.stop);
      } catch {
        return; // shutting down: leave the rest unsettled, the source delivers them again
      }
      pending = again.map((item) => ({ ...item, message: withAttempt(item.message, attempt + 1) }));
    }
  }

  /** One call to the sink; returns failures by index. A throw fails every message with that error. */
  async #attempt(items: WorkItem[], abort: AbortSignal, options: WriteOptions | undefined): Promise<Map<number, unknown>> {
    const messages = items.map((item) => item.message);
    const started = performance.now();
    let outcome: WriteOutcome;
    try {
      outcome = await this.#call(messages, abort, options);
    } catch (error) {
      const failures = new Map<number, unknown>();
      for (let index = 0; index < messages.length; index++) failures.set(index, error);
      this.hooks.observed((performance.now() - started) / 1000, messages.length, messages.length);
      return failures;
    }
    const failures = new Map<number, unknown>();
    for (const failure of outcome.failures) {
      if (failure.index >= 0 && failure.index < messages.length) failures.set(failure.index, failure.error);
    }
    this.hooks.observed((performance.now() - started) / 1000, messages.length, failures.size);
    return failures;
  }

  #call(messages: Message[], abort: AbortSignal, options: WriteOptions | undefined): Promise<WriteOutcome> {
    return this.call.execute(({ signal }) => this.sink.write(messages, signal, options), abort);
  }
}
