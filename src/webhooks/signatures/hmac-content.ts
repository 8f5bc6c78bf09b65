import { configError } from "../../core/errors.js";

export interface SignedContentValues {
  body: Buffer;
  timestamp?: string;
  id?: string;
}

type Part = { kind: "text"; text: Buffer } | { kind: "body" } | { kind: "timestamp" } | { kind: "id" };

/** A compiled signed-content template such as `{timestamp}.{body}` or `v0:{timestamp}:{body}`. */
export interface SignedContentTemplate {
  readonly usesTimestamp: boolean;
  readonly usesId: boolean;
  render(values: SignedContentValues): Buffer;
}

const PLACEHOLDER = /\{(body|timestamp|id)\}/g;

/** Compiles the template once; `{body}` must appear exactly once, and stays raw bytes when rendered. */
export function compileSignedContent(template: string, what: string): SignedContentTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ kind: "text", text: Buffer.from(template.slice(last, match.index), "utf8") });
    parts.push({ kind: match[1] as "body" | "timestamp" | "id" });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ kind: "text", text: Buffer.from(template.slice(last), "utf8") });
  if (parts.filter((part) => part.kind === "body").length !== 1) {
    throw configError(`${what}: signed_content must contain {body} exactly once (placeholders: {body}, {timestamp}, {id})`);
  }
  return {
    usesTimestamp: parts.some((part) => part.kind === "timestamp"),
    usesId: parts.some((part) => part.kind === "id"),
    render(values: SignedContentValues): Buffer {
      return Buffer.concat(
        parts.map((part) => {
          if (part.kind === "text") return part.text;
          if (part.kind === "body") return values.body;
          return Buffer.from((part.kind === "timestamp" ? values.timestamp : values.id) ?? "", "utf8");
        }),
      );
    },
  };
}
