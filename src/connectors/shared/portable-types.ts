import type { PortableType } from "../record-schema.js";

/** Readable spelling of a portable type for logs and messages: "decimal(12,2)", "timestamp(3) with zone". */
export function portableTypeLabel(type: PortableType): string {
  switch (type.kind) {
    case "integer":
      return `integer(${type.bytes} bytes)`;
    case "float":
      return `float(${type.bytes} bytes)`;
    case "decimal":
      return type.precision === undefined ? "decimal" : `decimal(${type.precision},${type.scale ?? 0})`;
    case "text":
      return type.maxLength === undefined ? "text" : `text(${type.maxLength})`;
    case "time":
      return type.precision === undefined ? "time" : `time(${type.precision})`;
    case "timestamp":
      return `timestamp${type.precision === undefined ? "" : `(${type.precision})`}${type.withZone ? " with zone" : ""}`;
    default:
      return type.kind;
  }
}

/** Prefix of a column comment that carries the portable type (engines without a native type for it). */
export const PORTABLE_COMMENT_PREFIX = "junction:";

/** `junction:{"kind":"timestamp","withZone":true}`: the portable type as a column comment. */
export function portableTypeComment(type: PortableType): string {
  return `${PORTABLE_COMMENT_PREFIX}${JSON.stringify(type)}`;
}

/** The portable type a column comment carries, or undefined when the comment is not Junction's (or not valid). */
export function parsePortableTypeComment(comment: string | null | undefined): PortableType | undefined {
  if (comment === null || comment === undefined || !comment.startsWith(PORTABLE_COMMENT_PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(comment.slice(PORTABLE_COMMENT_PREFIX.length));
  } catch {
    return undefined;
  }
  return isPortableType(parsed) ? parsed : undefined;
}

function isPortableType(value: unknown): value is PortableType {
  if (value === null || typeof value !== "object") return false;
  const type = value as Record<string, unknown>;
  const optionalCount = (name: string): boolean => type[name] === undefined || (Number.isInteger(type[name]) && (type[name] as number) >= 0);
  switch (type.kind) {
    case "boolean":
    case "bytes":
    case "json":
    case "uuid":
    case "date":
      return true;
    case "integer":
      return type.bytes === 2 || type.bytes === 4 || type.bytes === 8;
    case "float":
      return type.bytes === 4 || type.bytes === 8;
    case "decimal":
      return optionalCount("precision") && optionalCount("scale");
    case "text":
      return optionalCount("maxLength");
    case "time":
      return optionalCount("precision");
    case "timestamp":
      return typeof type.withZone === "boolean" && optionalCount("precision");
    default:
      return false;
  }
}

/**
 * The type a column gets when only a value is known (a field the source did not declare):
 * whole numbers → 8-byte integer, other numbers → 8-byte float, booleans, strings → text,
 * bytes, dates → timestamp with zone, objects and arrays → json; undefined for null.
 */
export function inferPortableType(value: unknown): PortableType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? { kind: "integer", bytes: 8 } : { kind: "float", bytes: 8 };
  if (typeof value === "bigint") return { kind: "integer", bytes: 8 };
  if (typeof value === "boolean") return { kind: "boolean" };
  if (typeof value === "string") return { kind: "text" };
  if (value instanceof Uint8Array) return { kind: "bytes" };
  if (value instanceof Date) return { kind: "timestamp", withZone: true };
  return { kind: "json" };
}
