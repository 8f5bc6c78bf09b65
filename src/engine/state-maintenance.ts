import type { Logger } from "pino";
import { errorMessage } from "../core/errors.js";
import { DEFAULTS } from "../config/model.js";
import type { StateStore } from "../state/types.js";

export interface StateMaintenanceOptions {
  /** How often. Default 10 min. */
  everyMs?: number;
  /** Delivered and failed outbound webhook deliveries older than this are removed. Default 30 days. */
  deliveryRetentionMs?: number;
  now?: () => number;
}

const LEASE = "junction:state-maintenance";
const DEFAULT_EVERY_MS = 10 * 60_000;

/**
 * Housekeeping of the state store while `junction run` runs: expired idempotency keys (the
 * replay-protection ids of inbound webhooks among them) and settled outbound deliveries past
 * their retention are deleted, so neither table grows without end. Instances sharing a store
 * take turns through a lease; the first pass runs at start.
 */
export class StateMaintenance {
  readonly #everyMs: number;
  readonly #retentionMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<unknown> | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly holder: string,
    private readonly logger: Logger,
    options: StateMaintenanceOptions = {},
  ) {
    this.#everyMs = options.everyMs ?? DEFAULT_EVERY_MS;
    this.#retentionMs = options.deliveryRetentionMs ?? DEFAULTS.deliveryRetentionMs;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    const tick = (): void => {
      this.#pass ??= this.runOnce()
        .catch((error: unknown) => this.logger.warn({ err: error }, `state maintenance failed: ${errorMessage(error)}; trying again later`))
        .finally(() => (this.#pass = undefined));
    };
    this.#timer = setInterval(tick, this.#everyMs);
    this.#timer.unref();
    tick();
  }

  /** One pass, when this instance holds the lease; what was removed, else undefined. */
  async runOnce(): Promise<{ idempotencyKeys: number; deliveries: number } | undefined> {
    if (!(await this.state.acquireLease(LEASE, this.holder, this.#everyMs))) return undefined;
    const now = this.#now();
    const idempotencyKeys = await this.state.pruneIdempotencyKeys(new Date(now));
    const deliveries = await this.state.webhookDeliveries.purgeSettled(new Date(now - this.#retentionMs));
    if (idempotencyKeys > 0 || deliveries > 0) {
      this.logger.info({ idempotency_keys: idempotencyKeys, webhook_deliveries: deliveries }, `state maintenance: removed ${idempotencyKeys} expired idempotency keys and ${deliveries} settled webhook deliveries`);
    }
    return { idempotencyKeys, deliveries };
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }
}
