import { configError, describeError } from "../core/errors.js";
import { fromStoredMessage } from "../core/message.js";
import type { Message } from "../core/message.js";
import type { Sink } from "../connectors/types.js";
import type { IntegrationConfig, TargetConfig } from "../config/model.js";
import type { DeadLetter } from "../state/types.js";
import type { Transform } from "../transform/types.js";
import { applyTransforms, buildTransforms } from "../transform/pipeline.js";
import { MessageRouter } from "./message-router.js";
import type { JunctionRuntime } from "./runtime.js";
import { SinkWriter } from "./sink-writer.js";

export interface ReplayResult {
  id: string;
  integration: string;
  outcome: "replayed" | "filtered" | "failed" | "skipped";
  error?: string;
}

/** An integration as replay needs it: its current transforms and routing, and the sinks opened so far. */
interface ReplayIntegration {
  integration: IntegrationConfig;
  transforms: Transform[];
  router: MessageRouter | undefined;
  sinks: Map<string, Sink>;
}

/** The stage of a dead letter that failed at one of several targets: `sink:<target name>`. */
const TARGET_STAGE = /^sink:(.+)$/;

/**
 * Sends dead letters through their integration's CURRENT transforms and targets again, so a
 * fixed mapping applies. A dead letter of one target (stage `sink:<name>`) goes to that
 * target only; any other is routed as a new message would be. Success marks the dead letter
 * replayed; failure keeps it pending and records the replay error.
 */
export async function replayDeadLetters(runtime: JunctionRuntime, letters: DeadLetter[], signal: AbortSignal): Promise<ReplayResult[]> {
  const opened = new Map<string, ReplayIntegration>();
  const results: ReplayResult[] = [];
  try {
    for (const letter of letters) {
      if (signal.aborted) break;
      if (letter.status === "replayed") {
        results.push({ id: letter.id, integration: letter.integration, outcome: "skipped", error: "already replayed" });
        continue;
      }
      let replay: ReplayIntegration;
      try {
        replay = opened.get(letter.integration) ?? openIntegration(runtime, letter.integration);
        opened.set(letter.integration, replay);
      } catch (error) {
        const message = runtime.redactor.redact(describeError(error).message);
        results.push({ id: letter.id, integration: letter.integration, outcome: "failed", error: message });
        continue;
      }
      results.push(await replayOne(runtime, replay, letter, signal));
    }
  } finally {
    for (const replay of opened.values()) for (const sink of replay.sinks.values()) await sink.close?.();
  }
  return results;
}

function openIntegration(runtime: JunctionRuntime, name: string): ReplayIntegration {
  const integration = runtime.config.integrations[name];
  if (!integration) throw configError(`integration "${name}" is no longer in the config; restore it or purge these dead letters`);
  const [first, ...others] = integration.targets;
  const unconditional = others.length === 0 && first?.when === undefined;
  return {
    integration,
    transforms: buildTransforms(integration.transforms, { baseDir: runtime.config.baseDir }),
    router: unconditional ? undefined : new MessageRouter(integration.targets, integration.routing),
    sinks: new Map(),
  };
}

async function sinkOf(runtime: JunctionRuntime, replay: ReplayIntegration, target: TargetConfig): Promise<Sink> {
  const open = replay.sinks.get(target.name);
  if (open) return open;
  const connection = await runtime.connections.get(target.connection);
  if (!connection.sink) throw configError(`connection "${target.connection}" cannot be a target`);
  const name = replay.integration.name;
  const sink = connection.sink(target.options, { integration: name, logger: runtime.logger.child({ integration: name, target: target.name, replay: true }) });
  replay.sinks.set(target.name, sink);
  return sink;
}

/** The targets a dead letter goes back to: the one it failed at, or wherever the message routes now. */
async function targetsOf(replay: ReplayIntegration, letter: DeadLetter, message: Message): Promise<readonly TargetConfig[]> {
  const { integration } = replay;
  const only = TARGET_STAGE.exec(letter.stage)?.[1];
  if (only !== undefined) {
    const target = integration.targets.find((t) => t.name === only);
    if (!target) {
      const names = integration.targets.map((t) => t.name).join(", ");
      throw configError(`it failed at target "${only}", which integration "${integration.name}" no longer has (targets: ${names}); restore the target or purge this dead letter`);
    }
    return [target];
  }
  if (replay.router === undefined) return integration.targets;
  const chosen = await replay.router.route(message);
  return chosen.map((index) => integration.targets[index] as TargetConfig);
}

async function replayOne(runtime: JunctionRuntime, replay: ReplayIntegration, letter: DeadLetter, signal: AbortSignal): Promise<ReplayResult> {
  const base = { id: letter.id, integration: letter.integration };
  const original = fromStoredMessage(letter.message, letter.attempts + 1);
  const fail = async (error: unknown, prefix = ""): Promise<ReplayResult> => {
    const message = runtime.redactor.redact(prefix + describeError(error).message);
    await runtime.state.recordDeadLetterReplayFailure(letter.id, message);
    return { ...base, outcome: "failed", error: message };
  };
  const replayed = async (outcome: "replayed" | "filtered"): Promise<ReplayResult> => {
    await runtime.state.markDeadLetterReplayed(letter.id);
    runtime.metrics.deadLetters.dec({ integration: letter.integration });
    if (outcome === "replayed") runtime.logger.info({ dead_letter_id: letter.id, integration: letter.integration, correlation_id: original.correlationId }, "dead letter replayed");
    return { ...base, outcome };
  };
  let transformed: Message | null;
  let targets: readonly TargetConfig[];
  try {
    transformed = await applyTransforms(replay.transforms, original);
    if (transformed === null) return await replayed("filtered");
    targets = await targetsOf(replay, letter, transformed);
  } catch (error) {
    return fail(error);
  }
  if (targets.length === 0) return replayed("filtered");
  for (const target of targets) {
    const error = await writeTo(runtime, replay, target, original, transformed, signal);
    if (error === undefined) continue;
    if (error === INTERRUPTED) return { ...base, outcome: "failed", error: "interrupted before the write finished" };
    return fail(error, replay.integration.routing === "single" ? "" : `target "${target.name}": `);
  }
  return replayed("replayed");
}

const INTERRUPTED = Symbol("interrupted");

/** Writes one message to one target with its retries and call policy; undefined once written, else why not. */
async function writeTo(runtime: JunctionRuntime, replay: ReplayIntegration, target: TargetConfig, original: Message, message: Message, signal: AbortSignal): Promise<unknown> {
  let sink: Sink;
  try {
    sink = await sinkOf(runtime, replay, target);
  } catch (error) {
    return error;
  }
  let outcome: { error: unknown } | "written" | undefined;
  const writer = new SinkWriter(sink, target.resilience.retry, {
    written: () => {
      outcome = "written";
    },
    failed: async (_item, error) => {
      outcome = { error };
    },
    retrying: () => undefined,
    observed: () => undefined,
  }, runtime.callPolicyFor(replay.integration, target).policy);
  const tracked = { batch: { messages: [], ack: async () => undefined, nack: async () => undefined }, remaining: 1 };
  try {
    await writer.write([{ original, message, owner: tracked }], { stop: signal, abort: signal });
  } catch (error) {
    return error;
  }
  if (outcome === "written") return undefined;
  return outcome === undefined ? INTERRUPTED : outcome.error;
}
