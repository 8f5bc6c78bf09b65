import type { TSchema, Static } from "@sinclair/typebox";
import type { Logger } from "pino";
import type { Message } from "../core/message.js";
import type { SharedDatabaseCheckpoints, StateStore } from "../state/types.js";
import type { ConfigIssue } from "../config/issues.js";
import type { ResilienceConfig } from "../config/model.js";
import type { HealthResult } from "../core/health.js";
import type { RecordSchema } from "./record-schema.js";

export type { ConfigIssue } from "../config/issues.js";
export type { HealthResult, HealthStatus } from "../core/health.js";
export type { ColumnSchema, PortableKind, PortableType, RecordSchema } from "./record-schema.js";

/**
 * The connector contract. A connector is one folder under src/connectors/<name>/ that
 * exports one `ConnectorSpec`: the single source of truth for its config schema
 * (validation, JSON Schema, docs, `junction init` templates), its health check and its
 * source and/or sink factories. Connectors never import the engine or each other.
 */
export interface ConnectorSpec<C extends TSchema = TSchema, S extends TSchema = TSchema, T extends TSchema = TSchema> {
  /** `type:` in config, e.g. "sqlite". */
  type: string;
  /** One line for docs and `junction init`. */
  summary: string;
  /** Schema of the connection block (`connections.<name>`), without `type`. Mark secret fields with `{ secret: true }`. */
  config: C;
  /** Schema of `integrations.<name>.source` options (without `connection`), when it can be a source. */
  source?: S;
  /** Schema of `integrations.<name>.target` options (without `connection`), when it can be a target. */
  sink?: T;
  /**
   * True when the connection can also be called from a `call` transform step with its target
   * options (the call's answer goes into the message for the steps after it); its connections
   * then implement `Connection.caller`.
   */
  callable?: boolean;
  /** Commented YAML example of a connection block, used in docs and `junction init`. */
  example?: string;
  /**
   * Semantic checks the schema cannot express (e.g. "cursor needs key"). Paths are relative
   * to the block checked. Called with already schema-valid values.
   */
  check?: {
    config?(config: Static<C>): ConfigIssue[];
    source?(options: Static<S>): ConfigIssue[];
    sink?(options: Static<T>): ConfigIssue[];
  };
  connect(config: Static<C>, ctx: RuntimeContext): Promise<Connection<Static<S>, Static<T>>>;
}

export interface RuntimeContext {
  /** Connection name from config. */
  name: string;
  logger: Logger;
  state: StateStore;
  /** Directory of the config file; relative paths in connector config resolve against it. */
  baseDir: string;
  /** Aborts when the runtime shuts down. */
  signal: AbortSignal;
  /**
   * The connection's own `resilience:` block (defaults filled in), when it has one. The engine
   * applies it around sink writes; a source that makes its own calls (an API it polls) uses its
   * `retry` for them.
   */
  resilience?: ResilienceConfig;
}

export interface Connection<SO = unknown, TO = unknown> {
  health(signal: AbortSignal): Promise<HealthResult>;
  source?(options: SO, ctx: SourceContext): Source;
  sink?(options: TO, ctx: SinkContext): Sink;
  /** For `callable` connectors: a caller with target options, for the `call` transform step. */
  caller?(options: TO, ctx: SinkContext): Caller;
  close(): Promise<void>;
}

/** Durable position storage for one source, scoped to its integration. */
export interface CheckpointAccess {
  get(): Promise<unknown>;
  set(value: unknown): Promise<void>;
}

export interface SourceContext {
  integration: string;
  logger: Logger;
  checkpoints: CheckpointAccess;
  /**
   * true: keep waiting for new data when caught up (continuous trigger).
   * false: end the iteration once caught up (once and scheduled triggers).
   */
  follow: boolean;
  /** Preferred number of messages per batch. */
  batchSize: number;
}

export interface SinkContext {
  integration: string;
  logger: Logger;
  /**
   * Present when the state store can take checkpoints inside a target's transaction: a
   * target whose database is the state store's (same identity) writes `WriteOptions.checkpoint`
   * with its rows.
   */
  sharedCheckpoints?: SharedDatabaseCheckpoints;
}

/** What a source can tell before it is read; every field is optional. */
export interface SourceDescription {
  /** Declared columns of what the source reads (database sources). */
  schema?: RecordSchema;
  /** Rough number of messages this run will read (full reads), for progress and ETA. */
  estimatedCount?: number;
}

/** Pull-based: the runner asks for the next batch only when it has room (backpressure). */
export interface Source {
  /** Called once per run before `batches`; a failure fails the run like a read error. */
  describe?(signal: AbortSignal): Promise<SourceDescription>;
  batches(signal: AbortSignal): AsyncIterable<Batch>;
  close?(): Promise<void>;
}

export interface Batch {
  messages: Message[];
  /** The checkpoint value `ack()` will store, when the source has one; lets a target in the state database commit it with the rows. */
  checkpoint?: unknown;
  /** Called once every message of the batch is durably written or dead-lettered; batches are acked in order. */
  ack(): Promise<void>;
  /** Called when the batch cannot be settled (shutdown, fatal error). */
  nack(reason: Error, requeue: boolean): Promise<void>;
  /**
   * Per-message settlement with the source's broker, for sources that can settle a message
   * on its own (hand it back, dead-letter it, drop it). Absent: a failed message goes to the
   * state store's dead letters and is acknowledged with its batch. A message settled here
   * still counts as settled for the batch: `ack()` must then leave it alone.
   */
  settlement?: MessageSettlement;
  /**
   * Messages of `messages` the source could not decode (a body that is not JSON, a broken
   * envelope), with the reason: the engine dead-letters them as they came (stage "source")
   * instead of transforming and writing them.
   */
  invalid?: ReadonlyMap<Message, Error>;
}

/**
 * What a broker source can do with one message that failed. Every call resolves only once
 * the broker holds the outcome (a confirmed publish, an acknowledged nak), so a crash in
 * between re-delivers the message rather than losing it.
 */
export interface MessageSettlement {
  /**
   * Gives a message that failed transiently (its in-process retries used up) back to the
   * broker for a later delivery. "exhausted" when it has reached its delivery limit: the
   * engine then dead-letters it.
   */
  requeue?(message: Message, failure: MessageFailureReport): Promise<"requeued" | "exhausted">;
  /**
   * Dead-letters a message in the broker itself (a dead-letter exchange or stream), with
   * the error. Absent: the engine stores the dead letter in the state store, then calls `discard`.
   */
  deadLetter?(message: Message, failure: MessageFailureReport): Promise<void>;
  /** Tells the broker never to deliver a message again once the engine has stored it as a dead letter (JetStream `term`). */
  discard?(message: Message): Promise<void>;
}

/** Why a message failed, as a source may pass it on to a broker (headers of a dead letter). */
export interface MessageFailureReport {
  /** The error's message with secrets redacted. */
  error: string;
  /** "transient" or "permanent" (or "config", "auth"). */
  kind: string;
  /** Where it failed: "transform" or "sink" (or "sink:<target>"). */
  stage: string;
  /** Deliveries or write attempts so far. */
  attempts: number;
}

export interface MessageFailure {
  /** Index into the `messages` array given to `write`. */
  index: number;
  error: unknown;
}

/** Per-message outcome of a write: every message not listed in `failures` was durably accepted. */
export interface WriteOutcome {
  failures: MessageFailure[];
  /** true when the sink committed `WriteOptions.checkpoint` in the same transaction as the rows. */
  checkpointed?: boolean;
}

/** A checkpoint to commit with the rows of a write, offered by the runner. */
export interface CheckpointWrite {
  /** The checkpoint's scope in the state store (the integration name). */
  scope: string;
  value: unknown;
}

export interface WriteOptions {
  /**
   * Offered only when a fully successful write settles every message still pending in the
   * oldest unacknowledged source batches. A sink may commit it in its own transaction — and
   * only when none of the messages failed; ignoring it is always correct.
   */
  checkpoint?: CheckpointWrite;
}

/** Given to `Sink.begin` at the start of every run. */
export interface SinkRunStart {
  /** The source's declared columns, when it knows them (create_table, on_schema_change). */
  schema?: RecordSchema;
}

export interface Sink {
  /** Called once per run before the first write (after `Source.describe`); a failure fails the run. */
  begin?(run: SinkRunStart, signal: AbortSignal): Promise<void>;
  write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome>;
  /**
   * Called once when a run ends cleanly: the source ended by itself (not stopped) and
   * every message was written or dead-lettered. Never called after a failure or a
   * shutdown. `replace` targets swap their staging table in here.
   */
  complete?(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export const ALL_WRITTEN: WriteOutcome = Object.freeze({ failures: Object.freeze([]) as unknown as MessageFailure[] });

/** Helper for sinks that write all-or-nothing: one error fails every message. */
export function failAll(messages: readonly Message[], error: unknown): WriteOutcome {
  return { failures: messages.map((_, index) => ({ index, error })) };
}

export type AnyConnectorSpec = ConnectorSpec<TSchema, TSchema, TSchema>;

/**
 * Makes one call per message in the middle of a pipeline (a `call` transform step) and returns
 * the message with the answer in it. Retries transient failures itself; throws what is left
 * (its kind decides whether the message is retried or dead-lettered).
 */
export interface Caller {
  call(message: Message, signal: AbortSignal): Promise<Message>;
}
