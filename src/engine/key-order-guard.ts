/**
 * Keeps two versions of the same key from being written concurrently: with several sink
 * batches in flight, an older version could otherwise land after a newer one and win an
 * upsert. A batch that shares a key with a write in progress waits for that write.
 */
export class KeyOrderGuard {
  readonly #inFlight = new Map<string, Promise<void>>();

  /** The writes in progress that share a key with `keys` (empty when none). */
  conflicts(keys: Iterable<string | undefined>): Promise<void>[] {
    if (this.#inFlight.size === 0) return [];
    const found = new Set<Promise<void>>();
    for (const key of keys) {
      if (key === undefined) continue;
      const pending = this.#inFlight.get(key);
      if (pending) found.add(pending);
    }
    return [...found];
  }

  /** Registers `write` as holding `keys` until it settles. */
  hold(keys: Iterable<string | undefined>, write: Promise<void>): void {
    const held: string[] = [];
    for (const key of keys) {
      if (key === undefined) continue;
      this.#inFlight.set(key, write);
      held.push(key);
    }
    if (held.length === 0) return;
    const release = (): void => {
      for (const key of held) if (this.#inFlight.get(key) === write) this.#inFlight.delete(key);
    };
    write.then(release, release);
  }
}
