import { RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { durationMs, sizeBytes } from "../shared/config-fields.js";
import { declarationError, isStreamNotFound } from "./nats-errors.js";
import type { NatsStreamConfig } from "./schema.js";

/** The settings Junction manages of one stream, as the JetStream API spells them. */
type ManagedStreamConfig = Pick<StreamConfig, "name" | "subjects" | "retention" | "storage" | "max_age" | "max_msgs" | "max_bytes" | "num_replicas"> &
  Partial<Pick<StreamConfig, "duplicate_window">>;

const RETENTION: Record<NonNullable<NatsStreamConfig["retention"]>, RetentionPolicy> = {
  limits: RetentionPolicy.Limits,
  workqueue: RetentionPolicy.Workqueue,
  interest: RetentionPolicy.Interest,
};

export function managedStreamConfig(stream: NatsStreamConfig): ManagedStreamConfig {
  const config: ManagedStreamConfig = {
    name: stream.name,
    subjects: stream.subjects ?? [stream.name],
    retention: RETENTION[stream.retention ?? "limits"],
    storage: stream.storage === "memory" ? StorageType.Memory : StorageType.File,
    max_age: nanos(durationMs(stream.max_age, 0)),
    max_msgs: stream.max_msgs ?? -1,
    max_bytes: stream.max_bytes === undefined ? -1 : sizeBytes(stream.max_bytes, -1),
    num_replicas: stream.replicas ?? 1,
  };
  if (stream.duplicate_window !== undefined) config.duplicate_window = nanos(durationMs(stream.duplicate_window, 120_000));
  return config;
}

export type StreamOutcome = "created" | "updated" | "unchanged";

/**
 * Creates each stream when missing and updates it when a managed setting differs, so that
 * declaring on every (re)connection is idempotent. Settings JetStream cannot change
 * (storage, retention) fail as a config error that says so.
 */
export async function declareStreams(jsm: JetStreamManager, streams: readonly NatsStreamConfig[]): Promise<Map<string, StreamOutcome>> {
  const outcomes = new Map<string, StreamOutcome>();
  for (const stream of streams) outcomes.set(stream.name, await declareStream(jsm, managedStreamConfig(stream)));
  return outcomes;
}

async function declareStream(jsm: JetStreamManager, wanted: ManagedStreamConfig): Promise<StreamOutcome> {
  const doing = `declaring JetStream stream "${wanted.name}"`;
  let existing: StreamConfig;
  try {
    existing = (await jsm.streams.info(wanted.name)).config;
  } catch (error) {
    if (!isStreamNotFound(error)) throw declarationError(error, doing, "");
    try {
      await jsm.streams.add(wanted);
      return "created";
    } catch (addError) {
      throw declarationError(addError, doing, "another stream may already store one of these subjects");
    }
  }
  const changed = changedSettings(existing, wanted);
  if (changed.length === 0) return "unchanged";
  try {
    await jsm.streams.update(wanted.name, { ...existing, ...wanted });
    return "updated";
  } catch (error) {
    throw declarationError(error, `${doing} (changing ${changed.join(", ")})`, "JetStream cannot change storage or retention of an existing stream: delete it or keep the old setting");
  }
}

function changedSettings(existing: StreamConfig, wanted: ManagedStreamConfig): string[] {
  const changed: string[] = [];
  for (const [name, value] of Object.entries(wanted) as [keyof ManagedStreamConfig, unknown][]) {
    const current: unknown = existing[name];
    const same = Array.isArray(value) && Array.isArray(current) ? sameSet(value as string[], current as string[]) : current === value;
    if (!same) changed.push(name);
  }
  return changed;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
