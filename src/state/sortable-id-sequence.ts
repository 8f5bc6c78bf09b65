import { newSortableId } from "../core/ids.js";

/** Hex digits of the random part that `newSortableId` appends to the time prefix. */
const RANDOM_HEX_DIGITS = 16;
const RANDOM_LIMIT = 1n << 64n;

/**
 * Sortable ids that are also strictly increasing within one store instance: ids made in
 * the same millisecond increment the random part, so "newest first" listings stay in
 * creation order even for bursts.
 */
export class SortableIdSequence {
  private lastTime = 0;
  private lastId = "";

  next(now: number = Date.now()): { id: string; time: number } {
    const time = Math.max(now, this.lastTime);
    if (time === this.lastTime && this.lastId !== "") {
      const cut = this.lastId.length - RANDOM_HEX_DIGITS;
      const random = BigInt(`0x${this.lastId.slice(cut)}`) + 1n;
      if (random < RANDOM_LIMIT) {
        this.lastId = this.lastId.slice(0, cut) + random.toString(16).padStart(RANDOM_HEX_DIGITS, "0");
        return { id: this.lastId, time };
      }
      return this.start(time + 1);
    }
    return this.start(time);
  }

  private start(time: number): { id: string; time: number } {
    this.lastTime = time;
    this.lastId = newSortableId(time);
    return { id: this.lastId, time };
  }
}
