import { PgoutputPlugin } from "pg-logical-replication";
import type { Pgoutput } from "pg-logical-replication";

const keepText = (text: unknown): unknown => text;

/**
 * pgoutput decoding that leaves column values as the text PostgreSQL sent: the library
 * would parse them with node-postgres' global parsers (timestamptz to a Date, losing
 * microseconds); the CDC source parses them itself, with the same rules as the keyset
 * source, and needs the exact key text. Also counts the messages decoded, so that a
 * keepalive can be ordered after the changes that were received before it.
 */
export class TextPgoutputPlugin extends PgoutputPlugin {
  decoded = 0;

  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    this.decoded += 1;
    // The library caches this relation object and reads its columns' parsers for every later row.
    if (message.tag === "relation") for (const column of message.columns) column.parser = keepText;
    return message;
  }
}
