import { createHash } from "node:crypto";
import { JunctionError, errorMessage } from "../core/errors.js";
import type { RedisScriptClient } from "./redis-client.js";

/**
 * A Lua script run with EVALSHA, falling back to EVAL (which also caches it on the server)
 * when the server does not know the script yet or lost it in a restart or SCRIPT FLUSH.
 */
export class RedisScript {
  readonly sha1: string;
  readonly source: string;
  readonly #name: string;

  constructor(name: string, source: string) {
    this.#name = name;
    this.source = source;
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }

  async run(client: RedisScriptClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      try {
        return await client.evalsha(this.sha1, keys.length, ...keys, ...args);
      } catch (error) {
        if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
        return await client.eval(this.source, keys.length, ...keys, ...args);
      }
    } catch (error) {
      throw new JunctionError(`Redis could not run the ${this.#name} script: ${errorMessage(error)}; check that Redis is reachable and is version 5 or later`, {
        kind: "transient",
        code: "redis.script_failed",
        cause: error,
      });
    }
  }
}

/** Reads the `{allowed, remaining, retryAfterMs}` integer triple the limiter scripts return. */
export function scriptTriple(name: string, reply: unknown): [number, number, number] {
  if (Array.isArray(reply) && reply.length === 3 && reply.every((n) => typeof n === "number")) {
    return reply as [number, number, number];
  }
  throw new JunctionError(`The ${name} script returned an unexpected reply ${JSON.stringify(reply)}; is another program using the same key prefix?`, {
    kind: "transient",
    code: "redis.unexpected_reply",
  });
}
