import type { Logger } from "pino";
import { describeError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import { toStoredMessage } from "../core/message.js";
import type { SecretRedactor } from "../core/redact.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import type { StateStore } from "../state/types.js";

/** Writes dead letters for one integration, with the original message, the error and the attempt count. */
export class DeadLetterRecorder {
  readonly #counter;

  constructor(
    private readonly state: StateStore,
    private readonly integration: string,
    private readonly logger: Logger,
    private readonly redactor: SecretRedactor,
    private readonly metrics: JunctionMetrics,
  ) {
    this.#counter = metrics.messagesTotal.labels({ integration, stage: "dead_letter", outcome: "dead_lettered" });
  }

  async record(original: Message, stage: string, error: unknown, attempts: number): Promise<void> {
    const described = this.redactor.redactValue(describeError(error));
    const letter = await this.state.addDeadLetter({
      integration: this.integration,
      message: toStoredMessage(original),
      stage,
      error: described,
      attempts,
    });
    this.#counter.inc();
    this.metrics.deadLetters.inc({ integration: this.integration });
    this.logger.warn(
      { correlation_id: original.correlationId, message_id: original.id, dead_letter_id: letter.id, stage, attempts, error: described },
      `message dead-lettered at ${stage}: ${described.message}`,
    );
  }

  /** Counts and logs a dead letter that the source's broker holds (a dead-letter exchange or stream), not the state store. */
  counted(original: Message, stage: string, error: string, attempts: number, where: string): void {
    this.#counter.inc();
    this.logger.warn(
      { correlation_id: original.correlationId, message_id: original.id, stage, attempts, error, dead_letter: where },
      `message dead-lettered at ${stage} into the ${where}'s dead-letter destination: ${error}`,
    );
  }
}
