import type { IPublishPacket, MqttClient } from "mqtt";

/**
 * mqtt.js acknowledges a QoS 1 message (PUBACK) or takes over a QoS 2 one (PUBREC) as
 * soon as its handlers let go of it, and handles the connection's packets one at a time:
 * holding a handler until the message is written would stall everything behind it (other
 * messages, ping responses, the sink's PUBACKs) and allow one message in flight. So the
 * handler lets go at once without the acknowledgement (`customHandleAcks` called back with
 * an error: mqtt.js then sends nothing and emits the error), and the acknowledgement is
 * sent later with the client's own packet writer, once the batch is written.
 *
 * `customHandleAcks` is read from `client.options` for every message; mqtt.js only keeps
 * a caller's handler for MQTT 5, so it is installed on the options after construction,
 * which makes MQTT 3.1.1 work the same way.
 */

/** Handed to the handler so that mqtt.js sends nothing; filtered out of the client's error events. */
export const DEFERRED = new Error("acknowledgement deferred until the message is written");

/** The client's packet writer (private in mqtt.js): writes when connected, queues otherwise. */
interface PacketWriter {
  _sendPacket(packet: { cmd: "puback" | "pubrec"; messageId: number }, callback?: (error?: Error) => void): void;
}

export type PublishReceiver = (topic: string, payload: Buffer, packet: IPublishPacket, resume: () => void) => void;

/** Routes every incoming PUBLISH to `receive`, which must call `resume` to let the client read on. */
export function installDeferredAcks(client: MqttClient, receive: PublishReceiver): void {
  if (typeof (client as unknown as Partial<PacketWriter>)._sendPacket !== "function") {
    throw new Error("this version of the mqtt package has no _sendPacket: the mqtt connector needs mqtt 5.x to acknowledge messages after they are written");
  }
  client.options.customHandleAcks = (topic, payload, packet: IPublishPacket, done) => {
    receive(topic, payload, packet, () => done(DEFERRED));
  };
  // QoS 0 messages never reach customHandleAcks; holding the callback stops reading the socket.
  client.handleMessage = (packet, callback) => {
    if (packet.qos === 0) receive(packet.topic, toBuffer(packet.payload), packet, () => callback());
    else callback();
  };
}

/** Sends the PUBACK (QoS 1) or PUBREC (QoS 2) of a message; the broker then completes a QoS 2 exchange with PUBREL, which mqtt.js answers. */
export function sendAck(client: MqttClient, packet: IPublishPacket): void {
  if (packet.qos === 0 || packet.messageId === undefined) return;
  (client as unknown as PacketWriter)._sendPacket({ cmd: packet.qos === 1 ? "puback" : "pubrec", messageId: packet.messageId });
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === "string" ? Buffer.from(payload) : payload;
}
