/** One link of a `Link` header (RFC 8288): its target as written and its parameters (names lower-cased). */
export interface WebLink {
  target: string;
  params: Record<string, string>;
}

/**
 * Parses `Link` header values (RFC 8288 §3): several links per value and several values,
 * commas and semicolons inside `<…>` and quoted strings, backslash escapes, parameters
 * without a value. Only the first occurrence of a parameter counts (§3.3). Malformed parts
 * are skipped rather than failing the whole header.
 */
export function parseLinkHeader(value: string | readonly string[] | undefined): WebLink[] {
  if (value === undefined) return [];
  const links: WebLink[] = [];
  for (const text of typeof value === "string" ? [value] : value) links.push(...parseOne(text));
  return links;
}

/** The target of the first link whose `rel` includes `relation` (case-insensitive), resolved against `base`. */
export function findLink(links: readonly WebLink[], relation: string, base: URL): URL | undefined {
  const wanted = relation.toLowerCase();
  for (const link of links) {
    const rels = (link.params.rel ?? "").toLowerCase().split(/\s+/);
    if (!rels.includes(wanted)) continue;
    try {
      return new URL(link.target, base);
    } catch {
      continue;
    }
  }
  return undefined;
}

function parseOne(text: string): WebLink[] {
  const links: WebLink[] = [];
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && /[ \t]/.test(text[at] as string)) at++;
  };
  const skipToNextLink = (): void => {
    // Past the next comma that is not inside a quoted string.
    while (at < text.length && text[at] !== ",") {
      if (text[at] === '"') readQuoted();
      else at++;
    }
    at++;
  };
  const readQuoted = (): string => {
    let out = "";
    at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === "\\" && at + 1 < text.length) at++;
      out += text[at];
      at++;
    }
    at++;
    return out;
  };
  const readToken = (): string => {
    const start = at;
    while (at < text.length && !/[\s;,=]/.test(text[at] as string)) at++;
    return text.slice(start, at);
  };

  while (at < text.length) {
    skipSpace();
    if (text[at] === ",") {
      at++;
      continue;
    }
    if (text[at] !== "<") {
      skipToNextLink();
      continue;
    }
    const close = text.indexOf(">", at);
    if (close === -1) break;
    const target = text.slice(at + 1, close).trim();
    at = close + 1;
    const params: Record<string, string> = {};
    for (;;) {
      skipSpace();
      if (text[at] !== ";") break;
      at++;
      skipSpace();
      const name = readToken().toLowerCase();
      skipSpace();
      let paramValue = "";
      if (text[at] === "=") {
        at++;
        skipSpace();
        paramValue = text[at] === '"' ? readQuoted() : readToken();
      }
      if (name !== "" && name !== "__proto__" && !Object.hasOwn(params, name)) params[name] = paramValue;
    }
    links.push({ target, params });
    skipSpace();
    if (at < text.length && text[at] !== ",") skipToNextLink();
  }
  return links;
}
