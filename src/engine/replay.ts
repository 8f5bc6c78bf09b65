import { configError, describeError } from "../core/errors.js";
import { fromStoredMessage } from "../core/message.js";
import type { Sink } from "../connectors/types.js";
import type { IntegrationConfig } from "../config/model.js";
import type { DeadLetter } from "../state/types.js";
import type { Transform } from "../transform/types.js";
import { applyTransforms, buildTransforms } from "../transform/pipeline.js";
import type { JunctionRuntime } from "./runtime.js";
import { SinkWriter } from "./sink-writer.js";

export interface ReplayResult {
  id: string;
  integration: string;
  outcome: "replayed" | "filtered" | "failed" | "skipped";
  error?: string;
}

interface ReplayTarget {
  integration: IntegrationConfig;
  transforms: Transform[];
  sink: Sink;
}

/**
 * Sends dead letters through their integration's CURRENT transforms and target again, so a
 * fixed mapping applies. Success marks the dead letter replayed; failure keeps it pending
 * and records the replay error.
 */
export async function replayDeadLetters(runtime: JunctionRuntime, letters: DeadLetter[], signal: AbortSignal): Promise<ReplayResult[]> {
  const targets = new Map<string, ReplayTarget>();
  const results: ReplayResult[] = [];
  try {
    for (const letter of letters) {
      if (signal.aborted) break;
      if (letter.status === "replayed") {
        results.push({ id: letter.id, integration: letter.integration, outcome: "skipped", error: "already replayed" });
        continue;
      }
      let target: ReplayTarget;
      try {
        target = targets.get(letter.integration) ?? (await openTarget(runtime, letter.integration));
        targets.set(letter.integration, target);
      } catch (error) {
        const message = runtime.redactor.redact(describeError(error).message);
        results.push({ id: letter.id, integration: letter.integration, outcome: "failed", error: message });
        continue;
      }
      results.push(await replayOne(runtime, target, letter, signal));
    }
  } finally {
    for (const target of targets.values()) await target.sink.close?.();
  }
  return results;
}

async function openTarget(runtime: JunctionRuntime, name: string): Promise<ReplayTarget> {
  const integration = runtime.config.integrations[name];
  if (!integration) throw configError(`integration "${name}" is no longer in the config; restore it or purge these dead letters`);
  const connection = await runtime.connections.get(integration.target.connection);
  if (!connection.sink) throw configError(`connection "${integration.target.connection}" cannot be a target`);
  return {
    integration,
    transforms: buildTransforms(integration.transforms, { baseDir: runtime.config.baseDir }),
    sink: connection.sink(integration.target.options, { integration: name, logger: runtime.logger.child({ integration: name, replay: true }) }),
  };
}

async function replayOne(runtime: JunctionRuntime, target: ReplayTarget, letter: DeadLetter, signal: AbortSignal): Promise<ReplayResult> {
  const base = { id: letter.id, integration: letter.integration };
  const original = fromStoredMessage(letter.message, letter.attempts + 1);
  const fail = async (error: unknown): Promise<ReplayResult> => {
    const message = runtime.redactor.redact(describeError(error).message);
    await runtime.state.recordDeadLetterReplayFailure(letter.id, message);
    return { ...base, outcome: "failed", error: message };
  };
  let transformed;
  try {
    transformed = await applyTransforms(target.transforms, original);
  } catch (error) {
    return fail(error);
  }
  if (transformed === null) {
    await runtime.state.markDeadLetterReplayed(letter.id);
    runtime.metrics.deadLetters.dec({ integration: letter.integration });
    return { ...base, outcome: "filtered" };
  }
  let result: ReplayResult | undefined;
  const writer = new SinkWriter(target.sink, target.integration.resilience.retry, {
    written: () => {
      result = { ...base, outcome: "replayed" };
    },
    failed: async (_item, error) => {
      result = await fail(error);
    },
    retrying: () => undefined,
    observed: () => undefined,
  }, runtime.callPolicyFor(target.integration).policy);
  const tracked = { batch: { messages: [], ack: async () => undefined, nack: async () => undefined }, remaining: 1 };
  await writer.write([{ original, message: transformed, owner: tracked }], { stop: signal, abort: signal });
  if (result?.outcome === "replayed") {
    await runtime.state.markDeadLetterReplayed(letter.id);
    runtime.metrics.deadLetters.dec({ integration: letter.integration });
    runtime.logger.info({ dead_letter_id: letter.id, integration: letter.integration, correlation_id: original.correlationId }, "dead letter replayed");
  }
  return result ?? { ...base, outcome: "failed", error: "interrupted before the write finished" };
}
