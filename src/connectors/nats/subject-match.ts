/** Whether `subject` (no wildcards) is matched by `filter`, where `*` matches one token and a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const wanted = filter.split(".");
  const tokens = subject.split(".");
  for (let i = 0; i < wanted.length; i++) {
    const token = wanted[i];
    if (token === ">") return tokens.length > i;
    if (i >= tokens.length) return false;
    if (token !== "*" && token !== tokens[i]) return false;
  }
  return wanted.length === tokens.length;
}
