import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { configError } from "../../core/errors.js";
import type { MessageFailureReport } from "../types.js";
import type { Delivery } from "./delivery.js";
import { headerRecord, natsHeaders } from "./header-map.js";
import { isStreamNotFound, natsError } from "./nats-errors.js";
import { subjectMatches } from "./subject-match.js";

/** Headers JetStream reads on publish (dedup id, expectations, rollups): never copied from the original. */
const PUBLISH_CONTROL = /^nats-/i;

/**
 * Publishes a failed message to the dead-letter subject through JetStream, body and headers
 * as they came plus the error in x-junction-* headers, and resolves once the stream has
 * stored it. The dedup id is the original's stream position, so a dead letter published
 * again after a crash (before the original was terminated) is stored once.
 */
export class DeadLetterPublisher {
  readonly #js: JetStreamClient;
  readonly #subject: string;

  constructor(js: JetStreamClient, subject: string) {
    this.#js = js;
    this.#subject = subject;
  }

  async publish(delivery: Delivery, failure: MessageFailureReport): Promise<void> {
    const { msg } = delivery;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(headerRecord(msg.headers))) if (!PUBLISH_CONTROL.test(name)) headers[name] = value;
    Object.assign(headers, {
      "x-junction-error": failure.error,
      "x-junction-error-kind": failure.kind,
      "x-junction-stage": failure.stage,
      "x-junction-attempts": String(failure.attempts),
      "x-junction-original-subject": msg.subject,
      "x-junction-original-stream": msg.info.stream,
      "x-junction-original-sequence": String(msg.seq),
      "x-junction-dead-lettered-at": new Date().toISOString(),
    });
    const originalId = msg.headers?.get("Nats-Msg-Id");
    if (originalId !== undefined && originalId !== "") headers["x-junction-original-msg-id"] = originalId;
    try {
      await this.#js.publish(this.#subject, msg.data, { headers: natsHeaders(headers), msgID: `junction-dead-letter:${msg.info.stream}:${msg.seq}` });
    } catch (error) {
      throw natsError(error, `publishing a dead letter to ${this.#subject}`);
    }
  }
}

/**
 * Checks before reading that a stream stores the dead-letter subject, and that the source's
 * own consumer would not read its dead letters again (a loop).
 */
export async function checkDeadLetterSubject(jsm: JetStreamManager, subject: string, source: { stream: string; filterSubject?: string | undefined }): Promise<void> {
  let stream: string;
  try {
    stream = await jsm.streams.find(subject);
  } catch (error) {
    if (isStreamNotFound(error)) {
      throw configError(`dead_letter_subject ${subject}: no stream stores it; declare one under the connection's streams (e.g. subjects: [${subject}])`, {
        code: "config.nats_dead_letter_subject",
      });
    }
    throw natsError(error, `looking up the stream of dead_letter_subject ${subject}`);
  }
  if (stream === source.stream && (source.filterSubject === undefined || subjectMatches(source.filterSubject, subject))) {
    throw configError(`dead_letter_subject ${subject} is stored by stream ${stream} and read by this same consumer: dead letters would come back; use a subject of another stream`, {
      code: "config.nats_dead_letter_subject",
    });
  }
}
