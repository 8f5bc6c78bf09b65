import type { TSchema, Static } from "@sinclair/typebox";
import type { Message } from "../core/message.js";
import type { ConfigIssue } from "../config/issues.js";

/**
 * A processor between source and sink. Returns the transformed message, or null when the
 * message is filtered out. Throwing is a permanent error: the message is dead-lettered
 * with the reason.
 */
export interface Transform {
  readonly name: string;
  apply(message: Message): Message | null | Promise<Message | null>;
}

export interface TransformBuildContext {
  /** Directory of the config file, for relative paths (e.g. a JSON Schema file). */
  baseDir: string;
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
