import type { Logger } from "pino";
import type { Message } from "../../core/message.js";
import type { Batch, MessageFailureReport, MessageSettlement } from "../types.js";
import type { ConsumerGroup } from "./consumer-group.js";
import { entryPosition } from "./entry-message.js";
import type { DecodedEntry } from "./entry-message.js";

export interface StreamSettlementOptions {
  maxDeliveries: number;
  /** Full key of the dead-letter stream; undefined: dead letters go to the state store. */
  deadLetterStream: string | undefined;
}

/** Prefix of the fields a dead-lettered entry gets besides its own. */
const DEAD_LETTER_FIELD = "x-junction-";

/**
 * A batch of stream entries. `ack` acknowledges (XACK) every entry not settled on its own;
 * an entry handed back stays pending and is claimed again after claim_idle; an entry
 * dead-lettered into the dead-letter stream is acknowledged with its copy. `inFlight`
 * holds the ids this process is working on, so that its own idle claims skip them.
 */
export function streamBatch(group: ConsumerGroup, decoded: DecodedEntry[], options: StreamSettlementOptions, inFlight: Set<string>, logger: Logger): Batch {
  const messages = decoded.map((entry) => entry.message);
  const invalid = new Map<Message, Error>();
  for (const entry of decoded) if (entry.invalid !== undefined) invalid.set(entry.message, entry.invalid);
  const settled = new Set<string>();
  const unsettled = (): string[] => {
    const ids: string[] = [];
    for (const message of messages) {
      const id = entryPosition(message)?.entryId;
      if (id !== undefined && !settled.has(id)) ids.push(id);
    }
    return ids;
  };
  const settle = (id: string): void => {
    settled.add(id);
    inFlight.delete(id);
  };

  const settlement: MessageSettlement = {
    async requeue(message: Message) {
      const position = entryPosition(message);
      if (position === undefined || message.attempt >= options.maxDeliveries) return "exhausted";
      await group.handBack(position.entryId);
      settle(position.entryId);
      return "requeued";
    },
  };
  const deadLetterStream = options.deadLetterStream;
  if (deadLetterStream !== undefined) {
    settlement.deadLetter = async (message: Message, failure: MessageFailureReport) => {
      const position = entryPosition(message);
      if (position === undefined) throw new Error(`message ${message.id} did not come from stream ${group.stream}`);
      await group.moveTo(deadLetterStream, position.entryId, deadLetterFields(position.fields, failure, group, position.entryId));
      settle(position.entryId);
      logger.warn({ stream: group.stream, entry_id: position.entryId, dead_letter_stream: deadLetterStream }, `entry ${position.entryId} moved to dead-letter stream ${deadLetterStream}`);
    };
  }

  return {
    messages,
    ...(invalid.size > 0 ? { invalid } : {}),
    settlement,
    async ack() {
      const ids = unsettled();
      await group.ack(ids);
      for (const id of ids) settle(id);
    },
    async nack(reason: Error) {
      // Nothing to tell Redis: unacknowledged entries stay pending with this consumer, and are
      // read again by it after a restart or claimed by another after claim_idle.
      const ids = unsettled();
      for (const id of ids) inFlight.delete(id);
      if (ids.length > 0) logger.debug({ stream: group.stream, count: ids.length, reason: reason.message }, "entries left pending for a later delivery");
    },
  };
}

function deadLetterFields(fields: readonly string[], failure: MessageFailureReport, group: ConsumerGroup, entryId: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    // A dead letter replayed and failing again gets fresh error fields, not a second set.
    if ((fields[i] as string).startsWith(DEAD_LETTER_FIELD)) continue;
    out.push(fields[i] as string, fields[i + 1] as string);
  }
  out.push(
    `${DEAD_LETTER_FIELD}error`,
    failure.error,
    `${DEAD_LETTER_FIELD}error-kind`,
    failure.kind,
    `${DEAD_LETTER_FIELD}stage`,
    failure.stage,
    `${DEAD_LETTER_FIELD}attempts`,
    String(failure.attempts),
    `${DEAD_LETTER_FIELD}stream`,
    group.stream,
    `${DEAD_LETTER_FIELD}group`,
    group.group,
    `${DEAD_LETTER_FIELD}entry-id`,
    entryId,
    `${DEAD_LETTER_FIELD}failed-at`,
    new Date().toISOString(),
  );
  return out;
}
