import type { SecretRedactor } from "../core/redact.js";
import type { ConfigPath } from "./problems.js";
import { walkWithSchema } from "./schema/walk.js";

/**
 * Registers with the redactor every value written in a field its schema marks
 * `secret: true`, and remembers where they are so `config print` can blank them.
 */
export class SecretFields {
  readonly paths: Array<Array<string | number>> = [];

  constructor(private readonly redactor: SecretRedactor) {}

  collect(schema: unknown, value: unknown, at: ConfigPath): void {
    walkWithSchema(schema, value, [...at], (sub, inner, path) => {
      if (sub.secret === true && inner !== undefined && inner !== null) {
        if (!this.paths.some((known) => known.length === path.length && known.every((s, i) => s === path[i]))) this.paths.push([...path]);
        this.addValue(inner);
      }
      return inner;
    });
  }

  addValue(value: unknown): void {
    if (typeof value === "string" || typeof value === "number") this.redactor.add(String(value));
    else if (Array.isArray(value)) for (const item of value) this.addValue(item);
    else if (value !== null && typeof value === "object") for (const item of Object.values(value)) this.addValue(item);
  }
}
