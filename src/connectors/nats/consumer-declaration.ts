import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import type { ConsumerConfig, ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { configError } from "../../core/errors.js";
import { declarationError, isConsumerNotFound, isStreamNotFound } from "./nats-errors.js";

export interface DurableConsumerSettings {
  stream: string;
  name: string;
  ackWaitMs: number;
  maxDeliver: number;
  filterSubject?: string | undefined;
  maxAckPending?: number | undefined;
}

type ManagedConsumerConfig = Pick<ConsumerConfig, "ack_wait" | "max_deliver" | "filter_subject" | "max_ack_pending">;

/**
 * Makes sure the durable pull consumer exists with the configured settings: created when
 * missing (explicit acks, delivering the whole stream from its start), updated when
 * ack_wait, max_deliver, filter_subject or max_ack_pending differ, left alone otherwise.
 */
export async function ensureDurableConsumer(jsm: JetStreamManager, settings: DurableConsumerSettings): Promise<ConsumerInfo> {
  const { stream, name } = settings;
  const doing = `declaring JetStream consumer "${name}" on stream "${stream}"`;
  const wanted = managedConfig(settings);
  let existing: ConsumerInfo;
  try {
    existing = await jsm.consumers.info(stream, name);
  } catch (error) {
    if (isStreamNotFound(error)) throw missingStream(stream, error);
    if (!isConsumerNotFound(error)) throw declarationError(error, doing, "");
    try {
      return await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...wanted });
    } catch (addError) {
      if (isStreamNotFound(addError)) throw missingStream(stream, addError);
      throw declarationError(addError, doing, "");
    }
  }
  if (existing.config.deliver_subject !== undefined && existing.config.deliver_subject !== "") {
    throw configError(`${doing}: "${name}" is a push consumer; use another consumer name or delete it`, { code: "config.nats_push_consumer" });
  }
  if (existing.config.ack_policy !== AckPolicy.Explicit) {
    throw configError(`${doing}: "${name}" exists with ack_policy ${existing.config.ack_policy}, which JetStream cannot change; use another consumer name or delete it`, {
      code: "config.nats_ack_policy",
    });
  }
  if (!differs(existing.config, wanted)) return existing;
  try {
    // An undefined filter removes the existing one (nats.js would put an empty one in the API subject).
    return await jsm.consumers.update(stream, name, { ...wanted, filter_subject: wanted.filter_subject });
  } catch (error) {
    throw declarationError(error, `${doing} (updating its settings)`, "delete the consumer to create it again with the new settings");
  }
}

function managedConfig(settings: DurableConsumerSettings): ManagedConsumerConfig {
  const config: ManagedConsumerConfig = { ack_wait: nanos(settings.ackWaitMs), max_deliver: settings.maxDeliver };
  if (settings.filterSubject !== undefined) config.filter_subject = settings.filterSubject;
  if (settings.maxAckPending !== undefined) config.max_ack_pending = settings.maxAckPending;
  return config;
}

function differs(existing: ConsumerConfig, wanted: ManagedConsumerConfig): boolean {
  if (existing.ack_wait !== wanted.ack_wait || existing.max_deliver !== wanted.max_deliver) return true;
  if ((existing.filter_subject ?? "") !== (wanted.filter_subject ?? "")) return true;
  return wanted.max_ack_pending !== undefined && existing.max_ack_pending !== wanted.max_ack_pending;
}

function missingStream(stream: string, cause: unknown): Error {
  return configError(`JetStream stream "${stream}" does not exist: declare it under the connection's streams, or fix the name`, { code: "config.nats_stream_missing", cause });
}
