import type { Logger } from "pino";
import type { Sink } from "../connectors/types.js";
import type { IntegrationConfig, TargetConfig } from "../config/model.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import type { Policy } from "../resilience/policy.js";
import { SinkWriter } from "./sink-writer.js";
import { TargetLane } from "./target-lane.js";
import type { TargetLaneContext } from "./target-lane.js";
import type { WorkItem } from "./work-item.js";

/** The sink of one target and the policies around its writes. */
export interface TargetSink {
  sink: Sink;
  /** Circuit breaker, rate limit, bulkhead, timeout around each write; none by default. */
  call?: Policy;
}

/** What the run does with the outcomes of every lane's writes. */
export interface LaneOutcomes {
  written(item: WorkItem): void;
  /**
   * A message failed for good at the target of `stage`. `viaBroker`: whether the source's
   * broker may take it back (not when other targets have it).
   */
  failed(item: WorkItem, stage: string, error: unknown, attempts: number, viaBroker: boolean): Promise<void>;
  retrying(count: number): void;
  observed?(seconds: number, size: number, failures: number): void;
}

export interface TargetLanesOptions {
  integration: IntegrationConfig;
  /** One per `integration.targets`, in that order. */
  sinks: readonly TargetSink[];
  context: TargetLaneContext;
  outcomes: LaneOutcomes;
  metrics: JunctionMetrics;
  log: Logger;
}

/**
 * One lane per target, each with its own writer, retries (the target's resilience), call
 * policy, sink batch and key ordering. Stage "sink" for a `target:`, "sink:<name>" with
 * `targets:` or `switch:`: dead letters and metric labels tell the targets apart.
 */
export function openTargetLanes(options: TargetLanesOptions): TargetLane[] {
  const { integration, sinks, context } = options;
  // A broker can take back or dead-letter a message only when no other target has it.
  const viaBroker = integration.routing !== "fan_out" || integration.targets.length === 1;
  return integration.targets.map((target, index) => {
    const stage = integration.routing === "single" ? "sink" : `sink:${target.name}`;
    const { sink, call } = sinks[index] as TargetSink;
    return new TargetLane(target.name, stage, sink, writerFor(options, target, stage, sink, call, viaBroker), context);
  });
}

function writerFor(options: TargetLanesOptions, target: TargetConfig, stage: string, sink: Sink, call: Policy | undefined, viaBroker: boolean): SinkWriter {
  const { metrics, outcomes } = options;
  const labels = { integration: options.integration.name, stage };
  const m = {
    written: metrics.messagesTotal.labels({ ...labels, outcome: "ok" }),
    failed: metrics.messagesTotal.labels({ ...labels, outcome: "failed" }),
    retried: metrics.messagesTotal.labels({ ...labels, outcome: "retried" }),
    retries: metrics.retriesTotal.labels(labels),
    duration: metrics.stageDuration.labels(labels),
  };
  const log = options.integration.routing === "single" ? options.log : options.log.child({ target: target.name });
  return new SinkWriter(
    sink,
    target.resilience.retry,
    {
      written: (item) => outcomes.written(item),
      writtenCount: (count) => m.written.inc(count),
      failed: (item, error, attempts) => outcomes.failed(item, stage, error, attempts, viaBroker),
      retrying: (count, delayMs, attempt) => {
        outcomes.retrying(count);
        m.retried.inc(count);
        m.retries.inc(count);
        log.debug({ count, delay_ms: Math.round(delayMs), attempt }, "retrying failed messages");
      },
      observed: (seconds, size, failures) => {
        m.duration.observe(seconds);
        if (failures > 0) m.failed.inc(failures);
        outcomes.observed?.(seconds, size, failures);
      },
    },
    call,
  );
}
