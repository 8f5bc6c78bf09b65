/** One filter condition: a column with its operator ("outbound =", "created_at >="), and its value (undefined: no condition). */
export type Condition = readonly [columnAndOperator: string, value: unknown];

export const sqlitePlaceholder = (): string => "?";
export const postgresPlaceholder = (position: number): string => `$${position}`;

/**
 * `WHERE a = ? AND b >= ?` from the conditions whose value is defined, in either dialect's
 * placeholders; the values are appended to `params`. Empty text when no condition applies.
 */
export function whereClause(conditions: readonly Condition[], placeholder: (position: number) => string, params: unknown[]): string {
  const parts: string[] = [];
  for (const [columnAndOperator, value] of conditions) {
    if (value === undefined) continue;
    params.push(value);
    parts.push(`${columnAndOperator} ${placeholder(params.length)}`);
  }
  return parts.length === 0 ? "" : `WHERE ${parts.join(" AND ")}`;
}
