// Real contexts for driving connectors in tests: an in-memory checkpoint slot (the
// engine's checkpoint access is a thin wrapper over the state store) and a silent logger.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Logger } from "pino";
import type { Batch, CheckpointAccess, RuntimeContext, SinkContext, Source, SourceContext } from "../../src/connectors/types.js";
import type { StateStore } from "../../src/state/types.js";

export const silentLogger: Logger = pino({ level: "silent" });

export class MemoryCheckpoints implements CheckpointAccess {
  value: unknown = undefined;
  writes = 0;
  async get(): Promise<unknown> {
    return this.value === undefined ? undefined : structuredClone(this.value);
  }
  async set(value: unknown): Promise<void> {
    this.writes += 1;
    this.value = JSON.parse(JSON.stringify(value)) as unknown;
  }
}

export function sourceContext(overrides: Partial<SourceContext> = {}): SourceContext & { checkpoints: MemoryCheckpoints } {
  return {
    integration: "test",
    logger: silentLogger,
    checkpoints: new MemoryCheckpoints(),
    follow: false,
    batchSize: 100,
    ...overrides,
  } as SourceContext & { checkpoints: MemoryCheckpoints };
}

export const sinkContext: SinkContext = { integration: "test", logger: silentLogger };

/** Connectors under test do not touch the state store; any use fails loudly. */
const noStateStore = new Proxy({} as StateStore, {
  get(_target, property) {
    throw new Error(`connector used state store method ${String(property)}; connectors must use ctx.checkpoints`);
  },
});

export function runtimeContext(baseDir: string, signal: AbortSignal = new AbortController().signal): RuntimeContext {
  return { name: "test", logger: silentLogger, state: noStateStore, baseDir, signal };
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "junction-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Pulls every batch of a non-following source, acking each one, and returns the batches. */
export async function drain(source: Source, options: { ack?: boolean; limit?: number; signal?: AbortSignal } = {}): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of source.batches(options.signal ?? new AbortController().signal)) {
    batches.push(batch);
    if (options.ack ?? true) await batch.ack();
    if (options.limit !== undefined && batches.length >= options.limit) break;
  }
  return batches;
}
