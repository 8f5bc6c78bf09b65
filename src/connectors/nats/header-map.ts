import { headers as createHeaders } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";

/** NATS headers as one string per name (several values joined with ", "), names as sent. */
export function headerRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [name, values] of headers) out[name] = values.join(", ");
  return out;
}

/** The value of a header whatever its case. */
export function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** NATS headers from a record; values with a line break are folded to one line (the protocol forbids them). */
export function natsHeaders(record: Readonly<Record<string, string>>): MsgHdrs {
  const headers = createHeaders();
  for (const [name, value] of Object.entries(record)) headers.set(name, value.replace(/[\r\n]+/g, " "));
  return headers;
}
