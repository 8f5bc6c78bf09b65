import { JunctionError } from "../core/errors.js";

/** JSON text for a stored value; `undefined` is stored as `null`. */
export function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new JunctionError(`${what} cannot be stored: it is not JSON-serialisable (${error instanceof Error ? error.message : String(error)})`, {
      kind: "permanent",
      code: "state.not_json",
      cause: error,
    });
  }
  return text ?? "null";
}

export function fromJsonText(text: string): unknown {
  return JSON.parse(text) as unknown;
}
