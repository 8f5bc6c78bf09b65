/**
 * A page URL given by the API (next_link, link_header) as a path relative to base_url, which
 * is how the client sends requests; undefined when it lies outside base_url — another origin
 * (the connection's credentials must not go there) or a path not under base_url's path.
 */
export function pathUnderBase(base: URL, link: URL): string | undefined {
  if (link.origin !== base.origin) return undefined;
  const basePath = base.pathname.replace(/\/+$/, "");
  let rest: string;
  if (link.pathname === basePath || link.pathname === `${basePath}/`) rest = "";
  else if (link.pathname.startsWith(`${basePath}/`)) rest = link.pathname.slice(basePath.length + 1);
  else return undefined;
  return `${rest}${link.search}`;
}
