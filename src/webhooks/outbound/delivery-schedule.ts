import { DEFAULT_SCHEDULE_MS } from "../../config/webhooks-outbound.js";
/**
 * When an outbound webhook is attempted again. The default follows the schedule of the
 * Standard Webhooks guidance: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
 * after the previous failure — eight attempts over about a day — each delay spread by
 * jitter so that endpoints coming back are not hit by every sender at the same second.
 */
export { DEFAULT_SCHEDULE_MS };

export interface DeliveryScheduleOptions {
  /** Delay before each attempt (the first is usually 0); the length is the number of attempts. */
  delaysMs?: readonly number[];
  /** Fraction of each delay that is randomised, ±; default 0.2 (a 5 min delay lands between 4 and 6 min). */
  jitter?: number;
  /** Multiplies every delay: tests run the real schedule scaled down. Default 1. */
  scale?: number;
  /** The longest `Retry-After` honoured; beyond it the endpoint is waited for this long. Default 24 h. */
  maxRetryAfterMs?: number;
}

export class DeliverySchedule {
  readonly attempts: number;
  readonly #delays: readonly number[];
  readonly #jitter: number;
  readonly #scale: number;
  readonly #maxRetryAfterMs: number;

  constructor(options: DeliveryScheduleOptions = {}) {
    const delays = options.delaysMs ?? DEFAULT_SCHEDULE_MS;
    if (delays.length === 0) throw new Error("a delivery schedule needs at least one attempt");
    if (delays.some((delay) => !Number.isFinite(delay) || delay < 0)) throw new Error("delivery schedule delays must be finite and not negative");
    const jitter = options.jitter ?? 0.2;
    if (!(jitter >= 0 && jitter < 1)) throw new Error("jitter must be at least 0 and below 1");
    this.#delays = delays;
    this.attempts = delays.length;
    this.#jitter = jitter;
    this.#scale = options.scale ?? 1;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 86_400_000;
  }

  /**
   * When attempt `attempt` (1-based) is due, in ms from `now`, or undefined once the
   * schedule is used up. A `Retry-After` from the endpoint's last answer moves it later,
   * never earlier.
   */
  delayBefore(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number | undefined {
    if (!Number.isInteger(attempt) || attempt < 1 || attempt > this.attempts) return undefined;
    const base = (this.#delays[attempt - 1] as number) * this.#scale;
    const jittered = base * (1 + this.#jitter * (2 * random() - 1));
    const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, this.#maxRetryAfterMs);
    return Math.max(0, Math.round(Math.max(jittered, asked)));
  }
}
