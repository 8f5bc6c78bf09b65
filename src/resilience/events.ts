export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (event: T) => void;

/**
 * A typed event with any number of listeners. Emitting with no listener costs one
 * length check, so policies can emit on hot paths.
 */
export class EventEmitter<T> {
  #listeners: Listener<T>[] = [];

  /** Subscribes; `dispose()` unsubscribes. */
  on(listener: Listener<T>): Disposable {
    this.#listeners = [...this.#listeners, listener];
    return {
      dispose: () => {
        this.#listeners = this.#listeners.filter((l) => l !== listener);
      },
    };
  }

  get size(): number {
    return this.#listeners.length;
  }

  emit(event: T): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) (listeners[i] as Listener<T>)(event);
  }
}
