import { JunctionError, errorMessage } from "../core/errors.js";

/** Stops a run: the unsettled batches are not acknowledged and will be delivered again. */
export class RunAbortedError extends JunctionError {
  constructor(message: string, cause: unknown) {
    super(message, { kind: cause instanceof JunctionError ? cause.kind : "permanent", cause });
    this.name = "RunAbortedError";
  }
}

export function fatalMessage(stage: string, error: unknown): string {
  return `${stage}: ${errorMessage(error)}`;
}
