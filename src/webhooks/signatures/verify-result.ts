import type { VerifyFailure, VerifyFailureReason, VerifySuccess } from "./types.js";

export function rejected(reason: VerifyFailureReason, message: string): VerifyFailure {
  return { ok: false, reason, message };
}

export function verified(keyIndex: number, facts: { id?: string; timestamp?: number } = {}): VerifySuccess {
  const result: VerifySuccess = { ok: true, keyIndex };
  if (facts.id !== undefined) result.id = facts.id;
  if (facts.timestamp !== undefined) result.timestamp = facts.timestamp;
  return result;
}
