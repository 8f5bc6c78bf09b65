import { JunctionError } from "../core/errors.js";

export const BAD_QUERY_PARAMETER = "admin.bad_query_parameter";

/**
 * Reads a request's query string against the parameters a route accepts; every problem is
 * a JunctionError with code BAD_QUERY_PARAMETER whose message names the parameter.
 */
export class QueryParameters {
  readonly #values: Record<string, unknown>;

  constructor(query: unknown, allowed: readonly string[]) {
    this.#values = query !== null && typeof query === "object" ? (query as Record<string, unknown>) : {};
    for (const name of Object.keys(this.#values)) {
      if (!allowed.includes(name)) {
        throw badParameter(name, `unknown query parameter "${name}"; this route accepts ${allowed.map((a) => `"${a}"`).join(", ")}`);
      }
    }
  }

  string(name: string): string | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (value === "") throw badParameter(name, `query parameter "${name}" must not be empty`);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      throw badParameter(name, `query parameter "${name}" must be one of ${values.join(", ")}; got ${JSON.stringify(value)}`);
    }
    return value as T;
  }

  integer(name: string, range: { min: number; max: number; default: number }): number {
    const value = this.#raw(name);
    if (value === undefined) return range.default;
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
      throw badParameter(name, `query parameter "${name}" must be an integer from ${range.min} to ${range.max}; got ${JSON.stringify(value)}`);
    }
    return number;
  }

  #raw(name: string): string | undefined {
    const value = this.#values[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw badParameter(name, `query parameter "${name}" may be given only once`);
    return value;
  }
}

function badParameter(parameter: string, message: string): JunctionError {
  return new JunctionError(message, { kind: "permanent", code: BAD_QUERY_PARAMETER, context: { parameter } });
}
