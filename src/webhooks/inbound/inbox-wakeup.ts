/**
 * Wakes an integration's inbox source as soon as this process accepted an event for it,
 * instead of waiting for its next poll (polling still finds events accepted by other
 * instances sharing the state store).
 */
export class InboxWakeup {
  readonly #waiting = new Map<string, Set<() => void>>();

  wake(integrations: readonly string[]): void {
    for (const integration of integrations) {
      const waiters = this.#waiting.get(integration);
      if (waiters === undefined) continue;
      this.#waiting.delete(integration);
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves on a wake-up for `integration`, after `ms`, or when `signal` aborts — whichever comes first. */
  wait(integration: string, ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let waiters = this.#waiting.get(integration);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiting.set(integration, waiters);
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#waiting.get(integration)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      waiters.add(done);
    });
  }
}
