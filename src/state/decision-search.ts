/**
 * Decisions are searched by words: each word of the query must occur, case-insensitively,
 * in the title or the body. The lowered text is computed here rather than by the database,
 * whose `lower()` folds only ASCII (SQLite) or depends on the server locale (PostgreSQL).
 */
export function decisionSearchText(title: string, text: string): string {
  return `${title}\n${text}`.toLowerCase();
}

export function decisionSearchWords(query: string | undefined): string[] {
  if (query === undefined) return [];
  return query
    .toLowerCase()
    .split(/\s+/u)
    .filter((word) => word.length > 0);
}
