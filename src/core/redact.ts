export const REDACTED = "[redacted]";

/**
 * Remembers secret values (interpolated variables, fields marked secret) and replaces
 * every occurrence of them in text. Used on log lines, error messages, API responses
 * and `junction config print`.
 */
export class SecretRedactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined;

  /** Values shorter than 4 characters are not tracked: replacing them would shred ordinary text. */
  add(secret: string | undefined | null): void {
    if (typeof secret !== "string" || secret.length < 4 || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    this.#pattern = undefined;
  }

  get size(): number {
    return this.#secrets.size;
  }

  has(value: string): boolean {
    return this.#secrets.has(value);
  }

  redact(text: string): string {
    if (this.#secrets.size === 0 || text.length < 4) return text;
    this.#pattern ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("|"),
      "g",
    );
    return text.replace(this.#pattern, REDACTED);
  }

  /** Deep copy of a JSON-like value with secrets replaced in every string. */
  redactValue<T>(value: T): T {
    if (this.#secrets.size === 0) return value;
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === "string") return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.#walk(item));
    if (value !== null && typeof value === "object" && !(value instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = this.#walk(inner);
      return out;
    }
    return value;
  }
}
