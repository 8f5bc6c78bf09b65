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
  return { ...message, payload };
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
  const payload = message.payload;
  if (typeof payload === "string") return payload.length;
  if (payload instanceof Uint8Array) return payload.byteLength;
  try {
    return JSON.stringify(payload)?.length ?? 0;
  } catch {
    return 0;
  }
}
