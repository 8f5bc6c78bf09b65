import type { Batch, Sink, Source, WriteOutcome } from "../../src/connectors/types.js";
import { sleep } from "../../src/core/abort.js";
import { createMessage } from "../../src/core/message.js";
import type { Message } from "../../src/core/message.js";
import type { IntegrationConfig, TargetConfig } from "../../src/config/model.js";
import { DEFAULTS } from "../../src/config/model.js";

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
