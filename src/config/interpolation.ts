import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SecretRedactor } from "../core/redact.js";
import type { ConfigPath, ConfigProblem } from "./problems.js";
import { formatPath } from "./problems.js";
import type { ConfigSource } from "./source.js";

export interface InterpolationContext {
  env: NodeJS.ProcessEnv;
  source: ConfigSource;
  /** Receives every value read from the environment or a file. */
  redactor: SecretRedactor;
}

export interface InterpolationResult {
  value: unknown;
  problems: ConfigProblem[];
  /** Paths (as `pathKey`) of strings that were one `${…}` expression and nothing else. */
  whollyInterpolated: Set<string>;
}

/** Identity of a path for sets and maps; dots are legal in keys, so not `formatPath`. */
export function pathKey(path: ConfigPath): string {
  return JSON.stringify(path);
}

const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;
const USAGE = 'use ${VAR}, ${VAR:-default} or ${file:./path}, and $${ for a literal "${"';

/**
 * Expands `${VAR}`, `${VAR:-default}` (default also when VAR is empty) and `${file:./path}`
 * (relative to the config directory, one trailing newline trimmed) in every string of the
 * tree; `$${` stands for a literal `${`. Keys are left alone.
 */
export function interpolateTree(value: unknown, ctx: InterpolationContext): InterpolationResult {
  const result: InterpolationResult = { value: undefined, problems: [], whollyInterpolated: new Set() };
  result.value = walk(value, [], ctx, result);
  return result;
}

function walk(value: unknown, path: Array<string | number>, ctx: InterpolationContext, result: InterpolationResult): unknown {
  if (typeof value === "string") return expandString(value, path, ctx, result);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index], ctx, result));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = walk(inner, [...path, key], ctx, result);
    return out;
  }
  return value;
}

function expandString(text: string, path: Array<string | number>, ctx: InterpolationContext, result: InterpolationResult): string {
  if (!text.includes("${")) return text;
  const report = (expression: string, message: string): void => {
    result.problems.push(problemAt(expression, path, message, ctx.source));
  };
  const expanded = expand(text, ctx, report);
  if (expanded.whole) result.whollyInterpolated.add(pathKey(path));
  return expanded.text;
}

function expand(text: string, ctx: InterpolationContext, report: (expression: string, message: string) => void): { text: string; whole: boolean } {
  let out = "";
  let whole = false;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      out += text.charAt(i);
      i += 1;
      continue;
    }
    const close = matchingBrace(text, i + 2);
    if (close < 0) {
      report(text.slice(i), `unclosed "\${" in ${JSON.stringify(text)}: add the closing "}" (${USAGE})`);
      out += text.slice(i);
      break;
    }
    const expression = text.slice(i, close + 1);
    whole = i === 0 && close === text.length - 1;
    out += resolveExpression(text.slice(i + 2, close), expression, ctx, report);
    i = close + 1;
  }
  return { text: out, whole };
}

/** Index of the "}" closing an expression whose content starts at `from`; nested `${` and `$${` count. */
function matchingBrace(text: string, from: number): number {
  let depth = 1;
  let j = from;
  while (j < text.length) {
    if (text.startsWith("$${", j)) {
      depth += 1;
      j += 3;
    } else if (text.startsWith("${", j)) {
      depth += 1;
      j += 2;
    } else {
      if (text.charAt(j) === "}") {
        depth -= 1;
        if (depth === 0) return j;
      }
      j += 1;
    }
  }
  return -1;
}

function resolveExpression(inner: string, expression: string, ctx: InterpolationContext, report: (expression: string, message: string) => void): string {
  if (inner.startsWith("file:")) return readInterpolatedFile(inner.slice(5).trim(), expression, ctx, report);
  const match = VARIABLE.exec(inner);
  if (!match) {
    report(expression, `invalid interpolation "${expression}": ${USAGE}`);
    return "";
  }
  const name = match[1] as string;
  const fallback = match[2];
  const value = ctx.env[name];
  if (value !== undefined && (fallback === undefined || value !== "")) {
    ctx.redactor.add(value);
    return value;
  }
  if (fallback !== undefined) return expand(fallback, ctx, report).text;
  report(expression, `environment variable "${name}" is not set: set it, or give a default with \${${name}:-value}`);
  return "";
}

function readInterpolatedFile(relativePath: string, expression: string, ctx: InterpolationContext, report: (expression: string, message: string) => void): string {
  if (relativePath === "") {
    report(expression, `"${expression}" names no file: write \${file:./path/to/file}`);
    return "";
  }
  const absolute = resolve(ctx.source.baseDir, relativePath);
  try {
    const content = readFileSync(absolute, "utf8").replace(/\r?\n$/, "");
    ctx.redactor.add(content);
    return content;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : String(code ?? error);
    report(expression, `cannot read ${expression}: ${reason} (${absolute})`);
    return "";
  }
}

/** Points at the expression itself inside the scalar when it can be found in the source text. */
function problemAt(expression: string, path: Array<string | number>, message: string, source: ConfigSource): ConfigProblem {
  const range = source.rangeOf(path);
  let position = source.locate(path);
  if (range) {
    const index = source.text.slice(range[0], range[1]).indexOf(expression);
    if (index >= 0) position = source.positionAt(range[0] + index);
  }
  return { file: source.file, line: position.line, col: position.col, path: formatPath(path), message };
}
