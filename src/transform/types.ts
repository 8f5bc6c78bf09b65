import type { TSchema, Static } from "@sinclair/typebox";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";
import type { Caller } from "../connectors/types.js";

/**
 * A processor between source and sink. Returns the transformed message, or null when the
 * message is filtered out. Throwing is a permanent error: the message is dead-lettered
 * with the reason.
 */
export interface Transform {
  readonly name: string;
  /** `signal` aborts work that waits on something outside (a call): the run is being cancelled. */
  apply(message: Message, signal?: AbortSignal): Message | null | Promise<Message | null>;
  /** True when the step waits on I/O per message (a call): the engine then runs several messages through the steps at once. */
  readonly concurrent?: boolean;
}

export interface TransformBuildContext {
  /** Directory of the config file, for relative paths (e.g. a JSON Schema file). */
  baseDir: string;
  /** The caller of a callable connection with the given target options (`call` steps); absent outside the runtime. */
  caller?(connection: string, options: Record<string, unknown>): Promise<Caller>;
}

/**
 * One transform step as written in config: a one-key object whose key is `name`,
 * e.g. `- map: '{ "id": id }'`. The spec drives validation, JSON Schema and docs.
 */
export interface TransformSpec<S extends TSchema = TSchema> {
  name: string;
  summary: string;
  schema: S;
  /** Example step as YAML, for docs. */
  example: string;
  /** Checks the schema cannot express, e.g. that a JSONata expression parses. */
  check?(value: Static<S>): ConfigIssue[];
  build(value: Static<S>, ctx: TransformBuildContext): Transform;
}

export type AnyTransformSpec = TransformSpec<TSchema>;
