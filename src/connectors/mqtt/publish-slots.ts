import { abortError } from "../../core/abort.js";

/**
 * Bounds the QoS 1 and 2 publishes waiting for their acknowledgement, over every write of
 * a client: an MQTT 5 broker announces how many it accepts (Receive Maximum; Mosquitto's
 * max_inflight_messages, 20 by default) and refuses the ones beyond with "Quota exceeded".
 */
export class PublishSlots {
  readonly #limit: () => number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: () => number) {
    this.#limit = limit;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#busy < this.#limit() && this.#waiting.length === 0) {
      this.#busy++;
      return;
    }
    if (signal.aborted) throw abortError(signal);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(grant);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(abortError(signal));
      };
      const grant = (): void => {
        signal.removeEventListener("abort", onAbort);
        this.#busy++;
        resolve();
      };
      this.#waiting.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  release(): void {
    this.#busy--;
    while (this.#waiting.length > 0 && this.#busy < this.#limit()) (this.#waiting.shift() as () => void)();
  }
}
