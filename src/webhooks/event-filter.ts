/** Characters an event type filter may use: those of event type names, plus `*`. */
const FILTER_CHARACTERS = /^[A-Za-z0-9_.:/*-]+$/;

/** Why `filter` is not a usable event type filter, or undefined when it is. */
export function eventFilterProblem(filter: string): string | undefined {
  if (!FILTER_CHARACTERS.test(filter)) return `"${filter}" is not an event type filter: use letters, digits, "_", ".", ":", "/", "-" and "*" (any run of characters), e.g. "order.*"`;
  return undefined;
}

/**
 * Which event types an endpoint subscribes to: exact names ("invoice.paid") and patterns
 * where `*` matches any run of characters ("order.*" takes "order.created" and
 * "order.line.added"). No filters means every event.
 */
export class EventFilter {
  readonly #exact = new Set<string>();
  readonly #patterns: RegExp[] = [];
  readonly #all: boolean;

  constructor(filters: readonly string[]) {
    this.#all = filters.length === 0 || filters.includes("*");
    for (const filter of filters) {
      if (!filter.includes("*")) this.#exact.add(filter);
      else this.#patterns.push(new RegExp(`^${filter.split("*").map(escapeRegExp).join(".*")}$`, "s"));
    }
  }

  matches(eventType: string): boolean {
    return this.#all || this.#exact.has(eventType) || this.#patterns.some((pattern) => pattern.test(eventType));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
