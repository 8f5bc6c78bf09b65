import { randomUUID } from "node:crypto";
import type { ConfigIssue } from "../types.js";

/** Builds one payload for sequence number `i`; `now` is the batch's ISO timestamp. */
export type PayloadBuilder = (i: number, now: string) => unknown;

const PLACEHOLDER = /\{\{\s*([a-z]+)\s*\}\}/g;
const PLACEHOLDERS = new Set(["i", "now", "uuid", "random"]);

type Part = string | "{{i}}" | "{{now}}" | "{{uuid}}" | "{{random}}";

/** The default payload, written out by hand because it is the benchmark's hot path. */
export function defaultPayload(i: number, now: string): Record<string, unknown> {
  return { id: i, name: `item-${i}`, value: (i % 1000) / 10, created_at: now };
}

/**
 * Compiles a template once into nested builders, so generating a message walks
 * precompiled parts: no parsing, regex or lookups per message.
 */
export function compilePayloadTemplate(template: unknown): PayloadBuilder {
  if (typeof template === "string") return compileString(template);
  if (Array.isArray(template)) {
    const items = template.map(compilePayloadTemplate);
    return (i, now) => items.map((item) => item(i, now));
  }
  if (template !== null && typeof template === "object") {
    const keys = Object.keys(template);
    const builders = keys.map((key) => compilePayloadTemplate((template as Record<string, unknown>)[key]));
    const size = keys.length;
    return (i, now) => {
      const out: Record<string, unknown> = {};
      for (let k = 0; k < size; k++) out[keys[k] as string] = (builders[k] as PayloadBuilder)(i, now);
      return out;
    };
  }
  return () => template;
}

function compileString(text: string): PayloadBuilder {
  const parts = splitPlaceholders(text);
  if (parts.length === 0) return () => "";
  if (parts.length === 1) {
    const only = parts[0] as Part;
    switch (only) {
      case "{{i}}":
        return (i) => i;
      case "{{random}}":
        return () => Math.random();
      case "{{now}}":
        return (_i, now) => now;
      case "{{uuid}}":
        return () => randomUUID();
      default:
        return () => only;
    }
  }
  const count = parts.length;
  return (i, now) => {
    let out = "";
    for (let p = 0; p < count; p++) {
      const part = parts[p] as Part;
      if (part === "{{i}}") out += i;
      else if (part === "{{now}}") out += now;
      else if (part === "{{uuid}}") out += randomUUID();
      else if (part === "{{random}}") out += Math.random();
      else out += part;
    }
    return out;
  };
}

/** Literal text and normalised placeholders ("{{ i }}" → "{{i}}"); unknown placeholders stay literal text. */
function splitPlaceholders(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!PLACEHOLDERS.has(name)) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(`{{${name}}}` as Part);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** Unknown placeholders in a template, as config issues. */
export function templateIssues(template: unknown, path: Array<string | number> = []): ConfigIssue[] {
  if (typeof template === "string") {
    const issues: ConfigIssue[] = [];
    for (const match of template.matchAll(PLACEHOLDER)) {
      if (!PLACEHOLDERS.has(match[1] as string)) issues.push({ path, message: `unknown placeholder ${match[0]}; use {{i}}, {{now}}, {{uuid}} or {{random}}` });
    }
    return issues;
  }
  if (Array.isArray(template)) return template.flatMap((item, index) => templateIssues(item, [...path, index]));
  if (template !== null && typeof template === "object") {
    return Object.entries(template).flatMap(([key, value]) => templateIssues(value, [...path, key]));
  }
  return [];
}
