import type { Message } from "../core/message.js";
import type { TrackedBatch } from "./ack-sequencer.js";

/** One message on its way to the sink: the transformed message, and the original kept for dead letters. */
export interface WorkItem {
  original: Message;
  message: Message;
  owner: TrackedBatch;
}
