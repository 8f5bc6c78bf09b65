import type { Logger } from "pino";
import type { Pgoutput } from "pg-logical-replication";
import { OPERATION_METADATA } from "../../../core/message.js";
import type { Message, RowOperation } from "../../../core/message.js";
import { junctionTypes } from "../value-parsers.js";
import type { CdcPlan } from "./cdc-plan.js";
import { formatLsn, parseLsn } from "./lsn.js";
import type { Lsn } from "./lsn.js";

/** What the source hands on, in commit order: a row change, or a position that is complete once everything before it is acked. */
export type StreamItem = { kind: "change"; message: Message } | { kind: "position"; lsn: Lsn };

/** A decoded tuple: each column's text as PostgreSQL printed it, null for SQL NULL, undefined for an unchanged TOASTed value. */
type TextTuple = Record<string, string | null | undefined>;
type TextParser = (text: string) => unknown;

const parserFor = junctionTypes.getTypeParser as (oid: number, format: "text") => TextParser;

/**
 * Turns pgoutput messages (values left as text, see TextPgoutputPlugin) into messages with
 * the same values as the keyset source: each value is parsed by its column's type with
 * the same parsers. Keeps track of transactions: every change carries its transaction's
 * commit LSN, and the commit yields the end LSN to acknowledge. Transactions that
 * committed before the resume position were already delivered and are skipped.
 */
export class ChangeConverter {
  readonly #plan: CdcPlan;
  readonly #resumeFrom: Lsn;
  readonly #logger: Logger;
  readonly #parsers = new WeakMap<Pgoutput.MessageRelation, Map<string, TextParser>>();
  #inTransaction = false;
  #warnedUnchangedToast = false;
  #skipping = false;
  #commitLsn = "";
  #index = 0;

  constructor(plan: CdcPlan, resumeFrom: Lsn, logger: Logger) {
    this.#plan = plan;
    this.#resumeFrom = resumeFrom;
    this.#logger = logger;
  }

  /** True between a transaction's begin and its commit. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  convert(message: Pgoutput.Message): StreamItem | undefined {
    switch (message.tag) {
      case "begin": {
        const commitLsn = parseLsn(message.commitLsn ?? "0/0");
        this.#inTransaction = true;
        // The resume position is a commit's end LSN: a transaction committed at or after it was not delivered yet.
        this.#skipping = commitLsn < this.#resumeFrom;
        this.#commitLsn = formatLsn(commitLsn);
        this.#index = 0;
        return undefined;
      }
      case "commit": {
        this.#inTransaction = false;
        if (this.#skipping) return undefined;
        return { kind: "position", lsn: parseLsn(message.commitEndLsn ?? "0/0") };
      }
      case "insert":
        return this.#change(message.relation, "insert", message.new as TextTuple);
      case "update":
        return this.#change(message.relation, "update", message.new as TextTuple);
      case "delete":
        return this.#change(message.relation, "delete", (message.old ?? message.key ?? {}) as TextTuple);
      case "truncate":
        if (!this.#skipping && message.relations.some((relation) => relation !== undefined && this.#isOurs(relation))) {
          this.#logger.warn(
            { table: this.#plan.label, publication: this.#plan.publication },
            "postgres cdc source: the table was truncated at the source; a truncate is not a row change and is not replicated, so the target keeps its rows: resync it with a full_refresh run",
          );
        }
        return undefined;
      default:
        return undefined;
    }
  }

  /** A keepalive's position, usable only between transactions (everything before it was sent). */
  keepalive(lsn: Lsn): StreamItem | undefined {
    if (this.#inTransaction || lsn < this.#resumeFrom) return undefined;
    return { kind: "position", lsn };
  }

  #isOurs(relation: Pgoutput.MessageRelation): boolean {
    return relation.schema === this.#plan.schema && relation.name === this.#plan.table;
  }

  #change(relation: Pgoutput.MessageRelation, operation: RowOperation, tuple: TextTuple): StreamItem | undefined {
    // A reused publication may publish other tables too.
    if (this.#skipping || !this.#isOurs(relation)) return undefined;
    const plan = this.#plan;
    const parsers = this.#parsersOf(relation);
    const payload: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(tuple)) {
      if (text === undefined) {
        if (operation === "update") this.#warnUnchangedToast(name);
        continue;
      }
      if (plan.columns !== undefined && !plan.columns.has(name)) continue;
      payload[name] = text === null ? null : (parsers.get(name) ?? String)(text);
    }
    const keyText = plan.key.map((column) => tuple[column]);
    const index = this.#index++;
    const id = `${plan.label}:${this.#commitLsn}:${index}`;
    const message: Message = {
      id,
      payload,
      headers: {},
      metadata: { table: plan.label, [OPERATION_METADATA]: operation, lsn: this.#commitLsn },
      correlationId: id,
      attempt: 1,
      position: this.#commitLsn,
    };
    if (keyText.every((text): text is string => typeof text === "string")) message.key = keyText.length === 1 ? (keyText[0] as string) : JSON.stringify(keyText);
    return { kind: "change", message };
  }

  #warnUnchangedToast(column: string): void {
    if (this.#warnedUnchangedToast) return;
    this.#warnedUnchangedToast = true;
    this.#logger.warn(
      { table: this.#plan.label, column },
      `postgres cdc source: an update left the large (TOASTed) value of ${column} unchanged, and pgoutput does not send such values: the payload leaves the field out. ` +
        `Run ALTER TABLE ${this.#plan.qualified} REPLICA IDENTITY FULL to receive complete rows`,
    );
  }

  #parsersOf(relation: Pgoutput.MessageRelation): Map<string, TextParser> {
    let parsers = this.#parsers.get(relation);
    if (parsers === undefined) {
      parsers = new Map(relation.columns.map((column) => [column.name, parserFor(column.typeOid, "text")]));
      this.#parsers.set(relation, parsers);
    }
    return parsers;
  }
}
