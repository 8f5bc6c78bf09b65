import { permanentError } from "../core/errors.js";

/** What a token endpoint granted, in the shape the rest of Junction uses. */
export interface TokenSet {
  accessToken: string;
  /** As the server spelled it, usually "Bearer" (GitHub says "bearer"; the scheme is case-insensitive). */
  tokenType: string;
  /** When the access token expires, in ms since the epoch; undefined when the server did not say (e.g. GitHub OAuth apps). */
  expiresAt?: number;
  refreshToken?: string;
  /** The granted scopes, space-separated, when the server said. */
  scope?: string;
  /** The token endpoint's whole answer (it contains the tokens: do not log it). */
  raw: Readonly<Record<string, unknown>>;
}

/**
 * True when `token` should be replaced: it expires within `skewMs` of `now` (both ms since the
 * epoch). A token without `expiresAt` never needs a refresh by time; refresh it when the API says 401.
 */
export function tokenNeedsRefresh(token: Pick<TokenSet, "expiresAt">, now: number, skewMs = 0): boolean {
  return token.expiresAt !== undefined && now >= token.expiresAt - skewMs;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Turns a successful token response (RFC 6749 §5.1) into a TokenSet. `expires_in` may be a number
 * or a digit string; `previousRefreshToken` is kept when a refresh answer carries no new one (§6).
 */
export function tokenSetFromResponse(fields: Record<string, unknown>, now: number, previousRefreshToken?: string): TokenSet {
  const accessToken = fields["access_token"];
  if (typeof accessToken !== "string" || accessToken.length === 0) {
    throw permanentError("The OAuth2 token endpoint answered without an access_token; check tokenUrl points at the token endpoint.", {
      code: "oauth2.no_access_token",
      context: { fields: Object.keys(fields) },
    });
  }
  const tokenType = typeof fields["token_type"] === "string" && fields["token_type"] ? fields["token_type"] : "Bearer";
  const expiresIn = seconds(fields["expires_in"]);
  const refreshToken = typeof fields["refresh_token"] === "string" && fields["refresh_token"] ? fields["refresh_token"] : previousRefreshToken;
  const rawScope = fields["scope"];
  const scope = typeof rawScope === "string" ? rawScope : Array.isArray(rawScope) ? rawScope.map(String).join(" ") : undefined;
  return {
    accessToken,
    tokenType,
    ...(expiresIn !== undefined ? { expiresAt: now + expiresIn * 1000 } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(scope !== undefined ? { scope } : {}),
    raw: fields,
  };
}
