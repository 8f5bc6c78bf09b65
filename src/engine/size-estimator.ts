import type { Message } from "../core/message.js";
import { approximateSize } from "../core/message.js";

/**
 * Estimates message sizes for byte-bounded batching without serialising every payload:
 * strings and buffers are measured exactly, objects are measured one in `sampleEvery`
 * and the running mean stands in for the rest.
 */
export class SizeEstimator {
  #measured = 0;
  #total = 0;
  #seen = 0;
  readonly #sampleEvery: number;

  constructor(sampleEvery = 16) {
    this.#sampleEvery = sampleEvery;
  }

  estimate(message: Message): number {
    const payload = message.payload;
    if (typeof payload === "string") return payload.length;
    if (payload instanceof Uint8Array) return payload.byteLength;
    if (this.#seen++ % this.#sampleEvery === 0 || this.#measured === 0) {
      const size = approximateSize(message);
      this.#measured++;
      this.#total += size;
      return size;
    }
    return this.#total / this.#measured;
  }
}
