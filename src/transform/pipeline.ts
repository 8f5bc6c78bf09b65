import { Value } from "@sinclair/typebox/value";
import { configError, errorMessage, JunctionError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import { didYouMean } from "../config/did-you-mean.js";
import { findTransform, transformSpecs } from "./registry.js";
import { transformFailed } from "./transform-error.js";
import type { Transform, TransformBuildContext } from "./types.js";

export interface TransformStep {
  /** Transform name, the step's one key in config, e.g. "map". */
  type: string;
  value: unknown;
}

/**
 * Builds the transforms of an integration once, at startup: looks up each step's spec,
 * checks its value against the spec's schema and semantic checks, and compiles it.
 * Throws a config error naming the step (`transforms[2] (map): …`).
 */
export function buildTransforms(steps: readonly TransformStep[], ctx: TransformBuildContext): Transform[] {
  return steps.map((step, index) => buildStep(step, index, ctx));
}

function buildStep(step: TransformStep, index: number, ctx: TransformBuildContext): Transform {
  const where = `transforms[${index}]`;
  const context = { step: index, transform: step.type };
  const spec = findTransform(step.type);
  if (spec === undefined) {
    const names = transformSpecs.map((s) => s.name);
    throw configError(`${where}: unknown transform "${step.type}"${didYouMean(step.type, names)}; available: ${names.join(", ")}`, {
      code: "transform.unknown",
      context,
    });
  }
  const schemaError = Value.Errors(spec.schema, step.value).First();
  if (schemaError !== undefined) {
    const at = schemaError.path === "" ? "" : ` at ${schemaError.path}`;
    throw configError(`${where} (${spec.name}): invalid value${at}: ${schemaError.message}; expected ${spec.schema.description ?? "see the docs"}`, {
      code: "transform.invalid_step",
      context,
    });
  }
  const issues = spec.check?.(step.value) ?? [];
  if (issues.length > 0) {
    const text = issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
    throw configError(`${where} (${spec.name}): ${text}`, { code: "transform.invalid_step", context: { ...context, issues } });
  }
  try {
    return spec.build(step.value, ctx);
  } catch (error) {
    if (error instanceof JunctionError) {
      Object.assign(error.context, context);
      throw error;
    }
    throw configError(`${where} (${spec.name}): ${errorMessage(error)}`, { code: "transform.invalid_step", context, cause: error });
  }
}

/**
 * Runs a message through the transforms in order. Returns the transformed message, or null
 * as soon as a step filters it out. Steps that answer synchronously are not awaited, so a
 * pipeline of synchronous steps costs one promise per message. A failure is rethrown with
 * `step` (index) and `transform` (name) added to its context; anything but a JunctionError
 * becomes a permanent `transform.<name>_failed` error.
 */
export async function applyTransforms(transforms: readonly Transform[], message: Message, signal?: AbortSignal): Promise<Message | null> {
  let current = message;
  for (let index = 0; index < transforms.length; index++) {
    const transform = transforms[index] as Transform;
    let result: Message | null;
    try {
      const output = transform.apply(current, signal);
      result = isPromiseLike(output) ? await output : output;
    } catch (error) {
      throw withStep(error, index, transform.name);
    }
    if (result === null) return null;
    current = result;
  }
  return current;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value instanceof Promise || (typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function");
}

function withStep(error: unknown, index: number, name: string): JunctionError {
  if (error instanceof JunctionError) {
    error.context["step"] = index;
    error.context["transform"] = name;
    return error;
  }
  return transformFailed(name, errorMessage(error), { cause: error, context: { step: index, transform: name } });
}
