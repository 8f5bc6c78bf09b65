import type { Batch, Sink, Source, WriteOutcome } from "../../src/connectors/types.js";
import { sleep } from "../../src/core/abort.js";
import { createMessage } from "../../src/core/message.js";
import type { Message } from "../../src/core/message.js";
import type { IntegrationConfig, TargetConfig } from "../../src/config/model.js";
import { DEFAULTS } from "../../src/config/model.js";
import { IntegrationRunner } from "../../src/engine/runner.js";
import type { RunSummary } from "../../src/engine/runner.js";
import { SecretRedactor } from "../../src/core/redact.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import type { StateStore } from "../../src/state/types.js";

/**
 * In-process source and sink implementations of the connector contract, for testing the
 * engine's own logic (ordering, retries, acks). Connectors are tested against real systems.
 */
export class ArraySource implements Source {
  readonly events: string[] = [];
  pulled = 0;

  constructor(private readonly batchesData: Message[][]) {}

  async *batches(signal: AbortSignal): AsyncIterable<Batch> {
    for (let i = 0; i < this.batchesData.length; i++) {
      if (signal.aborted) return;
      const messages = this.batchesData[i] as Message[];
      this.pulled++;
      this.events.push(`pull:${i}`);
      yield {
        messages,
        ack: async () => {
          this.events.push(`ack:${i}`);
        },
        nack: async () => {
          this.events.push(`nack:${i}`);
        },
      };
    }
  }

  get acked(): number[] {
    return this.events.filter((e) => e.startsWith("ack:")).map((e) => Number(e.slice(4)));
  }

  get nacked(): number[] {
    return this.events.filter((e) => e.startsWith("nack:")).map((e) => Number(e.slice(5)));
  }
}

export type SinkBehaviour = (message: Message, call: number) => unknown | undefined | Promise<unknown | undefined>;

/** Records every write call; `behaviour` returns an error for a message to fail it. */
export class RecordingSink implements Sink {
  readonly calls: string[][] = [];
  readonly accepted = new Map<string, unknown>();
  delayMs: ((messages: Message[], call: number) => number) | undefined;

  constructor(private readonly behaviour: SinkBehaviour = () => undefined) {}

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    const call = this.calls.length;
    this.calls.push(messages.map((m) => m.id));
    const delay = this.delayMs?.(messages, call) ?? 0;
    if (delay > 0) await sleep(delay, signal);
    const failures: WriteOutcome["failures"] = [];
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as Message;
      const error = await this.behaviour(message, call);
      if (error !== undefined) failures.push({ index, error });
      else this.accepted.set(message.key ?? message.id, message.payload);
    }
    return { failures };
  }
}

export function numberedBatches(batchCount: number, perBatch: number): Message[][] {
  const out: Message[][] = [];
  let n = 0;
  for (let b = 0; b < batchCount; b++) {
    const batch: Message[] = [];
    for (let i = 0; i < perBatch; i++) {
      n++;
      batch.push(createMessage({ id: `m${n}`, key: `k${n}`, payload: { n } }));
    }
    out.push(batch);
  }
  return out;
}

/** An integration for engine tests; unless `targets` is given, one `target:` ("dst") with the integration's resilience. */
export function testIntegration(overrides: Partial<IntegrationConfig> = {}): IntegrationConfig {
  const integration: IntegrationConfig = {
    name: "test",
    source: { connection: "src", options: {} },
    transforms: [],
    targets: [],
    routing: "single",
    trigger: { kind: "once" },
    batching: { count: 10, bytes: 1024 * 1024, periodMs: 50 },
    concurrency: 2,
    resilience: { retry: { attempts: 3, backoff: "constant", baseDelayMs: 1, maxDelayMs: 5, jitter: "none" }, timeoutMs: 0, timeoutStrategy: "cooperative" },
    onError: "dead_letter",
    monitoring: { alerts: { windowMs: DEFAULTS.alertWindowMs } },
    ...overrides,
  };
  if (overrides.targets === undefined) integration.targets = [{ name: "dst", connection: "dst", options: {}, resilience: integration.resilience }];
  return integration;
}

/** A target of a `targets:` or `switch:` integration for engine tests, with the retries of testIntegration. */
export function testTarget(name: string, when?: string, resilience: Partial<IntegrationConfig["resilience"]> = {}): TargetConfig {
  const target: TargetConfig = { name, connection: name, options: {}, resilience: { ...testIntegration().resilience, ...resilience } };
  if (when !== undefined) target.when = when;
  return target;
}

/** A runner of one test integration (no transforms) over `source` and `sink`, silent, with its own metrics. */
export function testRunner(name: string, source: Source, sink: Sink, state: StateStore, continuous: boolean): IntegrationRunner {
  return new IntegrationRunner({
    integration: testIntegration({ name, trigger: continuous ? { kind: "continuous" } : { kind: "once" } }),
    source,
    sink,
    transforms: [],
    state,
    logger: createLogger({ level: "silent" }),
    metrics: new JunctionMetrics({ defaultMetrics: false }),
    redactor: new SecretRedactor(),
  });
}

/** Runs a test integration continuously until `done` holds (or `timeoutMs` passes), then stops it gracefully. */
export async function runContinuouslyUntil(
  name: string,
  source: Source,
  sink: Sink,
  state: StateStore,
  done: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<RunSummary> {
  const stop = new AbortController();
  const running = testRunner(name, source, sink, state, true).run({ trigger: "continuous", stop: stop.signal, abort: new AbortController().signal });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !(await done())) await sleep(25);
  stop.abort();
  return running;
}

