import type { Message } from "../../core/message.js";
import type { Batch, MessageFailureReport, MessageSettlement } from "../types.js";
import type { DeadLetterPublisher } from "./dead-letter-publisher.js";
import type { Acknowledger, Delivery } from "./delivery.js";

export interface DeliverySettings {
  acknowledger: Acknowledger;
  maxDeliver: number;
  nakDelayMs: number;
  /** Present when a dead_letter_subject is configured. */
  deadLetters?: DeadLetterPublisher | undefined;
}

/**
 * One batch of JetStream deliveries. `ack` acknowledges what was not settled one by one;
 * `nack` hands it back at once; the settlement hands a failed message back with a delay
 * (until max_deliver), dead-letters it to the dead-letter subject, or terminates it once
 * the engine has stored it as a dead letter.
 */
export function deliveryBatch(entries: ReadonlyMap<Message, Delivery>, invalid: ReadonlyMap<Message, Error>, settings: DeliverySettings): Batch {
  const { acknowledger, maxDeliver, nakDelayMs, deadLetters } = settings;
  const deliveryOf = (message: Message): Delivery => {
    const delivery = entries.get(message) ?? (message.position as Delivery | undefined);
    if (delivery === undefined) throw new Error(`message ${message.id} is not part of this batch`);
    return delivery;
  };
  const settlement: MessageSettlement = {
    async requeue(message: Message, _failure: MessageFailureReport) {
      const delivery = deliveryOf(message);
      if (delivery.deliveryCount >= maxDeliver) return "exhausted";
      await acknowledger.settle(delivery, { type: "nak", delayMs: nakDelayMs });
      return "requeued";
    },
    async discard(message: Message) {
      await acknowledger.settle(deliveryOf(message), { type: "term" });
    },
  };
  if (deadLetters !== undefined) {
    settlement.deadLetter = async (message: Message, failure: MessageFailureReport) => {
      const delivery = deliveryOf(message);
      if (delivery.settled) return;
      await deadLetters.publish(delivery, failure);
      await acknowledger.settle(delivery, { type: "term" });
    };
  }
  const messages = [...entries.keys()];
  return {
    messages,
    ...(invalid.size > 0 ? { invalid } : {}),
    settlement,
    async ack() {
      await acknowledger.settleAll(unsettled(entries), { type: "ack" });
    },
    async nack(_reason: Error, _requeue: boolean) {
      // Handed back either way: a message is dropped only through the settlement, after its dead letter is stored.
      await acknowledger.settleAll(unsettled(entries), { type: "nak", delayMs: 0 });
    },
  };
}

function unsettled(entries: ReadonlyMap<Message, Delivery>): Delivery[] {
  return [...entries.values()].filter((delivery) => !delivery.settled);
}
