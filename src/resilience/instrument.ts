import type { JunctionMetrics } from "../observability/metrics.js";
import type { Disposable, EventEmitter } from "./events.js";

type Emitter = Pick<EventEmitter<unknown>, "on">;

interface EventBinding {
  policy: string;
  emitter: string;
  event: (payload: unknown) => string;
}

const BINDINGS: EventBinding[] = [
  { policy: "retry", emitter: "onRetry", event: () => "retry" },
  { policy: "retry", emitter: "onGiveUp", event: () => "give_up" },
  { policy: "circuit_breaker", emitter: "onStateChange", event: (e) => (e as { to: string }).to.replace("-", "_") },
  { policy: "bulkhead", emitter: "onReject", event: () => "rejected" },
  { policy: "rate_limit", emitter: "onRateLimited", event: () => "limited" },
  { policy: "timeout", emitter: "onTimeout", event: () => "timed_out" },
  { policy: "cache", emitter: "onHit", event: () => "hit" },
  { policy: "cache", emitter: "onMiss", event: () => "miss" },
  { policy: "fallback", emitter: "onFallback", event: () => "used" },
  { policy: "hedge", emitter: "onHedge", event: () => "hedged" },
];

const CIRCUIT_VALUE: Record<string, number> = { closed: 0, "half-open": 1, open: 2, isolated: 2 };

/**
 * Exposes a policy's events (or every policy of a pipeline) as Prometheus metrics:
 * `junction_policy_events_total{policy,name,event}`, `junction_retries_total` for retries
 * and `junction_circuit_state` for breakers. Returns a handle that unsubscribes.
 */
export function instrumentPolicy(policy: unknown, metrics: JunctionMetrics, name: string): Disposable {
  const subscriptions: Disposable[] = [];
  const visit = (member: unknown): void => {
    if (member === null || typeof member !== "object") return;
    const nested = (member as { policies?: unknown }).policies;
    if (Array.isArray(nested)) for (const inner of nested) visit(inner);
    for (const binding of BINDINGS) {
      const emitter = (member as Record<string, unknown>)[binding.emitter] as Emitter | undefined;
      if (emitter === undefined || typeof emitter.on !== "function") continue;
      const counter = metrics.policyEventsTotal;
      subscriptions.push(
        emitter.on((payload) => {
          const event = binding.event(payload);
          counter.inc({ policy: binding.policy, name, event });
          if (binding.emitter === "onRetry") metrics.retriesTotal.inc({ integration: name, stage: "policy" });
          if (binding.emitter === "onStateChange") metrics.circuitState.set({ name }, CIRCUIT_VALUE[(payload as { to: string }).to] ?? 0);
        }),
      );
    }
    if ("onStateChange" in member) metrics.circuitState.set({ name }, CIRCUIT_VALUE[String((member as { state?: unknown }).state)] ?? 0);
  };
  visit(policy);
  return {
    dispose() {
      for (const subscription of subscriptions) subscription.dispose();
    },
  };
}
