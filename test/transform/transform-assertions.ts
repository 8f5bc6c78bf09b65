import assert from "node:assert/strict";
import { JunctionError } from "../../src/core/errors.js";
import { createMessage } from "../../src/core/message.js";
import type { Message } from "../../src/core/message.js";
import type { ConfigIssue } from "../../src/config/issues.js";
import { buildTransforms } from "../../src/transform/pipeline.js";
import type { Transform } from "../../src/transform/types.js";

/** One built step, through the same path the engine uses. */
export function buildStep(type: string, value: unknown, baseDir = process.cwd()): Transform {
  const [transform] = buildTransforms([{ type, value }], { baseDir });
  assert.ok(transform);
  return transform;
}

/** A message whose payload is deeply frozen, so that any mutation by a transform throws. */
export function frozenMessage(payload: unknown, init: Partial<Message> = {}): Message {
  return { ...createMessage({ payload: deepFreeze(payload) }), ...init };
}

export async function applyStep(transform: Transform, message: Message): Promise<Message | null> {
  return await transform.apply(message);
}

/** Asserts that applying the step fails permanently with the given code and a message matching `pattern`. */
export async function assertStepFails(transform: Transform, message: Message, code: string, pattern: RegExp): Promise<JunctionError> {
  let caught: unknown;
  try {
    await transform.apply(message);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof JunctionError, `expected a JunctionError, got ${String(caught)}`);
  assert.equal(caught.kind, "permanent");
  assert.equal(caught.code, code);
  assert.match(caught.message, pattern);
  return caught;
}

export function assertConfigError(build: () => unknown, pattern: RegExp): JunctionError {
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof JunctionError, `expected a JunctionError, got ${String(caught)}`);
  assert.equal(caught.kind, "config");
  assert.match(caught.message, pattern);
  return caught;
}

export function issueMessages(issues: ConfigIssue[]): string[] {
  return issues.map((issue) => `${JSON.stringify(issue.path)} ${issue.message}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
