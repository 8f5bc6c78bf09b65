import { newId } from "./ids.js";

/**
 * One unit of data moving through an integration. `position` is opaque to everyone
 * but the source that produced it (an offset, a cursor, a delivery tag).
 */
export interface Message<P = unknown> {
  id: string;
  payload: P;
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  correlationId: string;
  /** 1 on first delivery; incremented by each retry. */
  attempt: number;
  /** Optional business key (upsert key, ordering key, idempotency key). */
  key?: string;
  position?: unknown;
  /**
   * The payload as the source database wrote it, present only while `payload` is still
   * exactly that row: it is gone once the payload has been read or replaced (see
   * createVerbatimMessage). A target of the same kind may write `verbatim.text` instead of
   * encoding the payload again.
   */
  readonly verbatim?: VerbatimRow | undefined;
}

/**
 * A row in the text its source database produced, e.g. one line of PostgreSQL's
 * `COPY … TO STDOUT`. Carried beside the payload so that a target of the same engine can
 * copy it as it is instead of decoding every value into the payload and encoding it again.
 */
export interface VerbatimRow {
  /** Who can read `text`, e.g. "postgres-copy-text". */
  readonly format: string;
  readonly columns: VerbatimColumns;
  readonly text: string;
}

/** The columns of verbatim rows; one object is shared by all rows of one read, so readers may cache per object. */
export interface VerbatimColumns {
  readonly names: readonly string[];
  /** Each column's type, spelt as the source database spells it (format_type for PostgreSQL). */
  readonly types: readonly string[];
}

/** A message's fields but its payload, for createVerbatimMessage. */
export interface VerbatimMessageInit {
  id: string;
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  correlationId: string;
  key?: string | undefined;
  position?: unknown;
}

/**
 * A message whose payload is decoded from `verbatim` only when something reads it. Until
 * then `message.verbatim` is the row; reading the payload (a transform, a target that
 * needs values, a dead letter) or assigning one removes it, so a target never finds a
 * verbatim row that disagrees with the payload.
 *
 * A class, not an object literal with accessors: V8 builds such literals through a slow
 * path, and every property read of the engine on them was slower too. The accessors live
 * on the prototype, so an object spread made before the payload is read would not carry
 * the payload: copy messages with withPayload / withAttempt. Once read, the payload
 * becomes an ordinary own property, and spreads and JSON.stringify see it as usual.
 */
export function createVerbatimMessage<P>(init: VerbatimMessageInit, verbatim: VerbatimRow, decode: (row: VerbatimRow) => P): Message<P> {
  return new VerbatimMessage(init, verbatim, decode as (row: VerbatimRow) => unknown) as unknown as Message<P>;
}

class VerbatimMessage {
  id: string;
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  correlationId: string;
  attempt = 1;
  key?: string;
  position?: unknown;
  #verbatim: VerbatimRow | undefined;
  readonly #decode: (row: VerbatimRow) => unknown;

  constructor(init: VerbatimMessageInit, verbatim: VerbatimRow, decode: (row: VerbatimRow) => unknown) {
    this.id = init.id;
    this.headers = init.headers;
    this.metadata = init.metadata;
    this.correlationId = init.correlationId;
    if (init.key !== undefined) this.key = init.key;
    if (init.position !== undefined) this.position = init.position;
    this.#verbatim = verbatim;
    this.#decode = decode;
  }

  get payload(): unknown {
    const verbatim = this.#verbatim;
    // Only reached before the payload became an own property (see `set payload`).
    return verbatim === undefined ? undefined : (this.payload = this.#decode(verbatim));
  }

  set payload(value: unknown) {
    this.#verbatim = undefined;
    Object.defineProperty(this, "payload", { value, writable: true, enumerable: true, configurable: true });
  }

  get verbatim(): VerbatimRow | undefined {
    return this.#verbatim;
  }

  /** The same message at another attempt, still undecoded when this one is. */
  withAttempt(attempt: number): Message {
    const verbatim = this.#verbatim;
    if (verbatim === undefined) return { ...(this as unknown as Message), attempt };
    const copy = new VerbatimMessage(this, verbatim, this.#decode);
    copy.attempt = attempt;
    return copy as unknown as Message;
  }

  toJSON(): unknown {
    return { ...this, payload: (this as { payload: unknown }).payload };
  }
}

/** A copy of `message` at another attempt (a retry); an undecoded payload stays undecoded. */
export function withAttempt(message: Message, attempt: number): Message {
  return message instanceof VerbatimMessage ? message.withAttempt(attempt) : { ...message, attempt };
}

/**
 * What a row change did at the source. Sources of row changes (CDC, soft-delete mapping)
 * put it in `metadata.operation`; a message without it is an insert-or-update. Targets in
 * `merge` mode delete the row with the message's key when it is "delete".
 */
export type RowOperation = "insert" | "update" | "delete";

export const OPERATION_METADATA = "operation";

export function rowOperation(message: Message): RowOperation | undefined {
  const operation = message.metadata[OPERATION_METADATA];
  return operation === "insert" || operation === "update" || operation === "delete" ? operation : undefined;
}

export function isDelete(message: Message): boolean {
  return message.metadata[OPERATION_METADATA] === "delete";
}

export interface MessageInit<P> {
  id?: string;
  payload: P;
  headers?: Record<string, string>;
  metadata?: Record<string, unknown>;
  correlationId?: string;
  attempt?: number;
  key?: string;
  position?: unknown;
}

export function createMessage<P>(init: MessageInit<P>): Message<P> {
  const id = init.id ?? newId();
  const message: Message<P> = {
    id,
    payload: init.payload,
    headers: init.headers ?? {},
    metadata: init.metadata ?? {},
    correlationId: init.correlationId ?? init.headers?.["x-correlation-id"] ?? id,
    attempt: init.attempt ?? 1,
  };
  if (init.key !== undefined) message.key = init.key;
  if (init.position !== undefined) message.position = init.position;
  return message;
}

/** A copy with a new payload; everything else (id, correlation, position) is kept. */
export function withPayload<P, Q>(message: Message<P>, payload: Q): Message<Q> {
  // A spread copies own properties only: an undecoded message's verbatim row stays behind.
  const copy: Message<Q> = { ...message, payload };
  // The verbatim row described the old payload.
  return copy.verbatim === undefined ? copy : { ...copy, verbatim: undefined };
}

/** JSON-safe form stored in dead letters and replayed later. */
export interface StoredMessage {
  id: string;
  payload: unknown;
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  correlationId: string;
  key?: string;
}

export function toStoredMessage(message: Message): StoredMessage {
  const stored: StoredMessage = {
    id: message.id,
    payload: message.payload,
    headers: message.headers,
    metadata: message.metadata,
    correlationId: message.correlationId,
  };
  if (message.key !== undefined) stored.key = message.key;
  return stored;
}

export function fromStoredMessage(stored: StoredMessage, attempt = 1): Message {
  return createMessage({ ...stored, attempt });
}

/** Approximate size in bytes, used for byte-bounded batching. */
export function approximateSize(message: Message): number {
  const verbatim = message.verbatim;
  if (verbatim !== undefined) return verbatim.text.length;
  const payload = message.payload;
  if (typeof payload === "string") return payload.length;
  if (payload instanceof Uint8Array) return payload.byteLength;
  try {
    return JSON.stringify(payload)?.length ?? 0;
  } catch {
    return 0;
  }
}
