/**
 * A WAL position (log sequence number). PostgreSQL prints it as two hex halves,
 * "16/B374D848"; as a bigint it compares and subtracts exactly.
 */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function isLsnText(text: unknown): text is string {
  return typeof text === "string" && LSN_TEXT.test(text);
}

export function parseLsn(text: string): Lsn {
  const match = LSN_TEXT.exec(text);
  if (match === null) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1] as string}`) << 32n) | BigInt(`0x${match[2] as string}`);
}

/** PostgreSQL's own spelling ("16/B374D848"), so it compares equal to pg_lsn text. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
