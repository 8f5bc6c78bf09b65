import type { WebhookDeliveryStore, WebhookEndpointState } from "../../state/webhook-types.js";
import { EndpointHealth } from "./endpoint-verdict.js";

export type DisableReasonKind = "gone" | "failing";

export interface EndpointDisabled {
  outbound: string;
  endpoint: string;
  reason: string;
  kind: DisableReasonKind;
}

/**
 * Keeps each endpoint's run of failures in the state store (so every instance sees the same
 * run) and disables the endpoint when it answered 410 or has failed for `disable_after`.
 * `onDisabled` is called once, by the instance that disabled it.
 */
export class EndpointHealthTracker {
  readonly #store: WebhookDeliveryStore;
  readonly #onDisabled: (event: EndpointDisabled) => void;
  /** The last update queued per endpoint: updates of one endpoint run one at a time. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(store: WebhookDeliveryStore, onDisabled: (event: EndpointDisabled) => void) {
    this.#store = store;
    this.#onDisabled = onDisabled;
  }

  succeeded(outbound: string, endpoint: string): Promise<void> {
    return this.#serially(outbound, endpoint, () => this.#succeeded(outbound, endpoint));
  }

  /** Records a failed attempt at `now`; disables the endpoint once every attempt has failed for `disableAfterMs`. */
  failed(outbound: string, endpoint: string, now: Date, disableAfterMs: number): Promise<void> {
    return this.#serially(outbound, endpoint, () => this.#failed(outbound, endpoint, now, disableAfterMs));
  }

  /** Disables at once (the endpoint answered 410 Gone). */
  gone(outbound: string, endpoint: string, now: Date, reason: string): Promise<void> {
    return this.#serially(outbound, endpoint, () => this.#gone(outbound, endpoint, now, reason));
  }

  /**
   * Runs read-modify-write updates of one endpoint one after another, so that a failure
   * read before a concurrent 410 cannot write the endpoint back as enabled.
   */
  #serially(outbound: string, endpoint: string, update: () => Promise<void>): Promise<void> {
    const key = `${outbound}\n${endpoint}`;
    const run = (this.#queues.get(key) ?? Promise.resolve()).then(update);
    const settledRun = run.catch(() => undefined);
    this.#queues.set(key, settledRun);
    void settledRun.then(() => {
      if (this.#queues.get(key) === settledRun) this.#queues.delete(key);
    });
    return run;
  }

  async #succeeded(outbound: string, endpoint: string): Promise<void> {
    const state = await this.#store.getEndpoint(outbound, endpoint);
    if (state?.failingSince === undefined) return;
    const { failingSince: _ended, ...rest } = state;
    await this.#store.setEndpoint(rest);
  }

  async #failed(outbound: string, endpoint: string, now: Date, disableAfterMs: number): Promise<void> {
    const state = (await this.#store.getEndpoint(outbound, endpoint)) ?? { outbound, endpoint, disabled: false };
    const health = new EndpointHealth({ disableAfterMs }, state.failingSince?.getTime());
    const disable = health.failed(now.getTime());
    const failingSince = new Date(health.failingSince ?? now.getTime());
    if (disable) {
      await this.#disable({ ...state, failingSince }, now, `every attempt failed for ${formatSpan(now.getTime() - failingSince.getTime())} (disable_after)`, "failing");
    } else if (state.failingSince === undefined) {
      await this.#store.setEndpoint({ ...state, failingSince });
    }
  }

  async #gone(outbound: string, endpoint: string, now: Date, reason: string): Promise<void> {
    const state = (await this.#store.getEndpoint(outbound, endpoint)) ?? { outbound, endpoint, disabled: false };
    await this.#disable({ ...state, failingSince: state.failingSince ?? now }, now, reason, "gone");
  }

  async #disable(state: WebhookEndpointState, now: Date, reason: string, kind: DisableReasonKind): Promise<void> {
    if (state.disabled) return;
    await this.#store.setEndpoint({ ...state, disabled: true, disabledAt: now, disabledReason: reason });
    this.#onDisabled({ outbound: state.outbound, endpoint: state.endpoint, reason, kind });
  }
}

function formatSpan(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}
