import type { Logger } from "pino";
import type { MessageFailureReport, MessageSettlement } from "../connectors/types.js";
import { errorKind, errorMessage } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { SecretRedactor } from "../core/redact.js";
import type { DeadLetterRecorder } from "./dead-letter-recorder.js";

/** requeued: handed back to the broker for a later delivery. dead_lettered: in the broker's or the state store's dead letters. */
export type FailureOutcome = "requeued" | "dead_lettered";

/**
 * Puts a message that failed for good somewhere safe: handed back to its broker when it
 * failed transiently and the broker can take it, else dead-lettered in the broker or in the
 * state store. Throws when it cannot be stored, so that the run stops rather than lose it.
 */
export class FailureSettler {
  constructor(
    private readonly deadLetters: DeadLetterRecorder,
    private readonly redactor: SecretRedactor,
    private readonly log: Logger,
    private readonly requeued: { inc(): void },
  ) {}

  /**
   * @param settlement the source batch's per-message settlement with its broker, if any
   * @param viaBroker false when the failure concerns one of several targets the message went
   *   to: the broker would deliver it to every target again, so it goes to the state store
   */
  async settle(original: Message, settlement: MessageSettlement | undefined, stage: string, error: unknown, attempts: number, viaBroker: boolean): Promise<FailureOutcome> {
    if (settlement === undefined || !viaBroker) {
      await this.deadLetters.record(original, stage, error, attempts);
      return "dead_lettered";
    }
    const report: MessageFailureReport = {
      error: this.redactor.redact(errorMessage(error)),
      kind: errorKind(error),
      stage,
      attempts: Math.max(attempts, original.attempt),
    };
    if (report.kind === "transient" && settlement.requeue !== undefined) {
      if ((await settlement.requeue(original, report)) === "requeued") {
        this.requeued.inc();
        this.log.warn({ correlation_id: original.correlationId, message_id: original.id, stage, attempts: report.attempts, error: report.error }, `message handed back to the broker for a later delivery: ${report.error}`);
        return "requeued";
      }
    }
    if (settlement.deadLetter !== undefined) {
      await settlement.deadLetter(original, report);
      this.deadLetters.counted(original, stage, report.error, report.attempts, "broker");
      return "dead_lettered";
    }
    await this.deadLetters.record(original, stage, error, report.attempts);
    await settlement.discard?.(original);
    return "dead_lettered";
  }
}
