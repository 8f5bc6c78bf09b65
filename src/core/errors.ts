/**
 * Errors are values with a `kind` that decides what the engine does with them:
 * - transient: retry with backoff (network, 5xx, 429, timeouts, lock conflicts)
 * - permanent: dead-letter at once (validation, mapping, 4xx)
 * - config:    the user's configuration is wrong; stop and say what to fix
 * - auth:      credentials are missing or rejected; retrying will not help
 */
export type ErrorKind = "transient" | "permanent" | "config" | "auth";

export interface JunctionErrorOptions {
  kind: ErrorKind;
  /** Machine-readable code, e.g. "transform.map_failed". */
  code?: string;
  /** Extra facts for logs and dead letters; never put secrets here. */
  context?: Record<string, unknown>;
  /** Milliseconds the remote side asked us to wait before retrying (Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class JunctionError extends Error {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly context: Record<string, unknown>;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: JunctionErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JunctionError";
    this.kind = options.kind;
    this.code = options.code;
    this.context = options.context ?? {};
    this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, code: this.code, message: this.message, context: this.context };
  }
}

export function transientError(message: string, options: Omit<JunctionErrorOptions, "kind"> = {}): JunctionError {
  return new JunctionError(message, { ...options, kind: "transient" });
}

export function permanentError(message: string, options: Omit<JunctionErrorOptions, "kind"> = {}): JunctionError {
  return new JunctionError(message, { ...options, kind: "permanent" });
}

export function configError(message: string, options: Omit<JunctionErrorOptions, "kind"> = {}): JunctionError {
  return new JunctionError(message, { ...options, kind: "config" });
}

const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTCONN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  // PostgreSQL: serialization failure, deadlock, too many connections, admin shutdown, cannot connect now
  "40001",
  "40P01",
  "53300",
  "57P01",
  "57P03",
]);

/** The kind of any thrown value: our own errors carry it, well-known driver and network codes map to it. */
export function errorKind(error: unknown): ErrorKind {
  if (error instanceof JunctionError) return error.kind;
  if (isAbortError(error)) return "transient";
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && TRANSIENT_NODE_CODES.has(code)) return "transient";
  return "permanent";
}

export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "AbortError" || (error as { name?: unknown } | null)?.name === "TimeoutError";
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A plain, JSON-safe description of an error for dead letters, run history and API responses. */
export function describeError(error: unknown): { kind: ErrorKind; message: string; code?: string; context?: Record<string, unknown> } {
  const kind = errorKind(error);
  const message = errorMessage(error);
  if (error instanceof JunctionError) {
    return { kind, message, ...(error.code ? { code: error.code } : {}), ...(Object.keys(error.context).length ? { context: error.context } : {}) };
  }
  const code = (error as { code?: unknown } | null)?.code;
  return { kind, message, ...(typeof code === "string" ? { code } : {}) };
}
