/**
 * Reads the fields of a token endpoint's answer. JSON is what RFC 6749 §5.1 prescribes and what we
 * ask for; GitHub answers `application/x-www-form-urlencoded` when it ignores the Accept header,
 * so that is read too. Undefined when the body is neither (an HTML error page, an empty body).
 */
export function parseTokenResponseBody(text: string, contentType: string | undefined): Record<string, unknown> | undefined {
  const type = (contentType ?? "").toLowerCase();
  const trimmed = text.trim();
  if (trimmed.length === 0) return undefined;
  if (type.includes("json") || trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(trimmed);
      return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  if (type.includes("x-www-form-urlencoded") || (type.startsWith("text/plain") && /^[^\s<>]+=/.test(trimmed))) {
    return Object.fromEntries(new URLSearchParams(trimmed));
  }
  return undefined;
}
