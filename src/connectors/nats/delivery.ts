import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/transport-node";
import { natsError } from "./nats-errors.js";

/** One JetStream delivery of a message, settled (acked, nak'ed or terminated) at most once. */
export class Delivery {
  readonly msg: JsMsg;
  #settled = false;

  constructor(msg: JsMsg) {
    this.msg = msg;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Marks the delivery settled; false when it already was. */
  claim(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }

  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }
}

/** What the server does with a settled delivery. */
export type Settlement = { type: "ack" } | { type: "nak"; delayMs: number } | { type: "term" };

/**
 * Sends acknowledgements and waits for the server to confirm each one (an ack sent as a
 * request is answered once the consumer has processed it), so that "settled" means the
 * server knows, not that a frame left the socket.
 */
export class Acknowledger {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #onSettled: (delivery: Delivery) => void;

  constructor(nc: NatsConnection, timeoutMs: number, onSettled: (delivery: Delivery) => void) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#onSettled = onSettled;
  }

  /**
   * Settles every delivery not settled yet, all at once; rejects with the first failure.
   * Acks of a whole batch go out as plain acks followed by one flush (the server has them
   * once it answers the PING behind them): one round trip for the batch instead of one
   * request each. An ack lost with the connection only means the message comes again.
   */
  async settleAll(deliveries: readonly Delivery[], settlement: Settlement): Promise<void> {
    if (settlement.type === "ack") {
      try {
        for (const delivery of deliveries) {
          if (!delivery.claim()) continue;
          this.#onSettled(delivery);
          delivery.msg.ack();
        }
        await this.#nc.flush();
      } catch (error) {
        throw natsError(error, `acknowledging ${deliveries.length} JetStream messages`);
      }
      return;
    }
    const results = await Promise.allSettled(deliveries.map((delivery) => this.settle(delivery, settlement)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Settles one delivery unless already settled; false when it was. */
  async settle(delivery: Delivery, settlement: Settlement): Promise<boolean> {
    if (!delivery.claim()) return false;
    this.#onSettled(delivery);
    const reply = replySubject(delivery.msg);
    try {
      if (reply === undefined) {
        sendUnconfirmed(delivery.msg, settlement);
        await this.#nc.flush();
      } else {
        await this.#nc.request(reply, payload(settlement), { timeout: this.#timeoutMs });
      }
    } catch (error) {
      throw natsError(error, `${settlement.type} of JetStream message ${delivery.msg.info.stream}:${delivery.msg.seq}`);
    }
    return true;
  }
}

function payload(settlement: Settlement): string {
  switch (settlement.type) {
    case "ack":
      return "+ACK";
    case "nak":
      return settlement.delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(settlement.delayMs) })}` : "-NAK";
    case "term":
      // Without a reason: servers before 2.10 ignore "+TERM <reason>".
      return "+TERM";
  }
}

function sendUnconfirmed(msg: JsMsg, settlement: Settlement): void {
  if (settlement.type === "ack") msg.ack();
  else if (settlement.type === "nak") msg.nak(settlement.delayMs);
  else msg.term();
}

/** nats.js keeps the ack subject (the message's reply subject) on its JsMsg implementation. */
function replySubject(msg: JsMsg): string | undefined {
  const reply = (msg as JsMsg & { reply?: unknown }).reply;
  return typeof reply === "string" && reply !== "" ? reply : undefined;
}
