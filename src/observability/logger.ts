import { pino } from "pino";
import type { DestinationStream, Logger, LoggerOptions as PinoOptions } from "pino";
import pinoPretty from "pino-pretty";
import { JunctionError } from "../core/errors.js";
import { REDACTED } from "../core/redact.js";
import type { SecretRedactor } from "../core/redact.js";

export type { Logger } from "pino";

export type LogFormat = "json" | "pretty" | "auto";

export interface CreateLoggerOptions {
  /** pino level name: fatal, error, warn, info, debug, trace, silent. Default "info". */
  level?: string;
  /** "json" (default): one JSON object per line; "pretty": human-readable; "auto": pretty when the destination is a TTY. */
  format?: LogFormat;
  /** Every secret it knows is replaced in each output line, wherever it appears. */
  redactor?: SecretRedactor;
  /** Where lines go; standard output by default. */
  destination?: NodeJS.WritableStream | DestinationStream;
  name?: string;
}

/** Keys whose values are never logged, whether or not the redactor knows the value. */
export const REDACTED_LOG_PATHS: readonly string[] = [
  "password",
  "passwd",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "client_secret",
  "secret",
  "api_key",
  "apiKey",
  "authorization",
  "cookie",
  "set-cookie",
  "*.password",
  "*.passwd",
  "*.token",
  "*.access_token",
  "*.refresh_token",
  "*.id_token",
  "*.client_secret",
  "*.secret",
  "*.api_key",
  "*.apiKey",
  "*.authorization",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["set-cookie"]',
  '*.headers["x-api-key"]',
];

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!LEVELS.has(level)) {
    throw new JunctionError(`Unknown log level "${level}".`, {
      kind: "config",
      code: "logger.level",
      context: { allowed: [...LEVELS] },
    });
  }
  const target = options.destination ?? pino.destination({ dest: 1, sync: true });
  const tty = options.destination ? isTty(options.destination) : process.stdout.isTTY === true;
  const pretty = options.format === "pretty" || (options.format === "auto" && tty);
  const redactor = options.redactor;

  const pinoOptions: PinoOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: [...REDACTED_LOG_PATHS], censor: REDACTED },
    hooks: redactor ? { streamWrite: (line) => redactLine(line, redactor) } : {},
  };
  if (options.name !== undefined) pinoOptions.name = options.name;
  return pino(pinoOptions, pretty ? prettyDestination(target, tty) : target);
}

/** Writes out whatever the logger has buffered; call before the process exits. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      // A destination that cannot flush (already closed) has nothing left to write.
      resolve();
    }
  });
}

/** pino's error serializer plus the `kind`, `code` and `context` of a JunctionError. */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.errWithCause(value) };
  if (value instanceof JunctionError) {
    serialized.kind = value.kind;
    if (value.code !== undefined) serialized.code = value.code;
    if (Object.keys(value.context).length > 0) serialized.context = value.context;
  }
  return serialized;
}

/**
 * Replaces secrets in one serialized JSON line. A plain text replacement is exact when the
 * line contains no escapes; otherwise (or when something was replaced, which could have
 * cut through JSON syntax) the line is decoded, redacted value by value and encoded again,
 * so escaped secrets are found and the line stays valid JSON.
 */
export function redactLine(line: string, redactor: SecretRedactor): string {
  if (redactor.size === 0) return line;
  const replaced = redactor.redact(line);
  if (replaced === line && !line.includes("\\")) return line;
  const newline = line.endsWith("\n") ? "\n" : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return replaced;
  }
  return JSON.stringify(redactor.redactValue(parsed)) + newline;
}

function isTty(target: NodeJS.WritableStream | DestinationStream): boolean {
  return (target as { isTTY?: unknown }).isTTY === true;
}

/**
 * pino-pretty's formatter applied synchronously in-process (no worker thread), so a short
 * CLI run or a test sees every line as soon as the log call returns.
 */
function prettyDestination(
  target: NodeJS.WritableStream | DestinationStream,
  colorize: boolean,
): DestinationStream & { flush(cb: (error?: Error) => void): void } {
  const format = pinoPretty.prettyFactory({ colorize, ignore: "pid,hostname" });
  return {
    write(line: string): void {
      target.write(format(line));
    },
    flush(cb: (error?: Error) => void): void {
      const flushable = target as { flush?: (cb: (error?: Error) => void) => void };
      if (typeof flushable.flush === "function") flushable.flush(cb);
      else cb();
    },
  };
}
