/**
 * The bounded queue between pub/sub pushes and the runner's pulls. Pub/sub has no flow
 * control (a subscriber that stops reading is disconnected by the server once its output
 * buffer fills), so when the queue is full new messages are dropped and counted.
 */
export class PubSubBuffer<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  #dropped = 0;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  /** false when full: the item was dropped. */
  push(item: T): boolean {
    if (this.#items.length >= this.capacity) {
      this.#dropped += 1;
      return false;
    }
    this.#items.push(item);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    return true;
  }

  /** Messages dropped since the last call. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }

  take(max: number): T[] {
    return this.#items.splice(0, max);
  }

  /** Resolves once something is queued or `signal` aborts. */
  async waitForItems(signal: AbortSignal): Promise<void> {
    if (this.#items.length > 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => {
        this.#wake = undefined;
        resolve();
      };
      this.#wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
