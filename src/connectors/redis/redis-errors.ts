import { JunctionError, isAbortError, permanentError, transientError } from "../../core/errors.js";

/** Error replies that go away by themselves: a server loading its data, a busy script, a failover. */
const TRANSIENT_REPLIES = new Set(["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "MOVED", "ASK"]);
const AUTH_REPLIES = new Set(["NOAUTH", "WRONGPASS", "NOPERM"]);

/**
 * The error of a Redis command as a JunctionError. An error reply is permanent (a key of
 * another type, a syntax error), unless it names a passing condition (LOADING, BUSY,
 * READONLY after a failover, a group deleted under a running consumer) or refused
 * credentials (auth); anything that is not a reply — a refused or lost connection, a
 * command given up after reconnect attempts — is transient. Abort errors pass through.
 */
export function redisError(error: unknown, doing: string): Error {
  if (error instanceof JunctionError || isAbortError(error)) return error as Error;
  const text = error instanceof Error ? error.message : String(error);
  if (!isReplyError(error)) {
    const code = (error as { code?: unknown } | null)?.code;
    return transientError(`${doing}: ${typeof code === "string" && !text.includes(code) ? `${code}: ` : ""}${text}`, { code: "redis.connection", cause: error });
  }
  const reply = replyCode(text);
  if (reply === "NOGROUP") {
    // The stream or its group was deleted under us: a new run creates them again (MKSTREAM).
    return transientError(`${doing}: ${text} (the stream or its consumer group was deleted; the run starts again and creates it)`, { code: "redis.nogroup", cause: error });
  }
  if (TRANSIENT_REPLIES.has(reply)) return transientError(`${doing}: ${text}`, { code: `redis.${reply.toLowerCase()}`, cause: error });
  if (AUTH_REPLIES.has(reply)) {
    return new JunctionError(`${doing}: Redis refused the credentials (${text}); check the user and password in the connection url`, {
      kind: "auth",
      code: `redis.${reply.toLowerCase()}`,
      cause: error,
    });
  }
  return permanentError(`${doing}: ${text}`, { code: `redis.${reply.toLowerCase() || "error"}`, cause: error });
}

/** The first word of an error reply, e.g. "NOGROUP", "WRONGTYPE", "ERR". */
export function replyCode(text: string): string {
  const match = /^([A-Z]+)\b/.exec(text);
  return match ? (match[1] as string) : "";
}

export function isReplyError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ReplyError";
}
