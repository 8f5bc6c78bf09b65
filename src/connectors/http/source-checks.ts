import jsonata from "jsonata";
import type { ConfigIssue } from "../types.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { HttpSourceOptions } from "./schema.js";

/** What the source schema cannot say: templates and JSONata that parse, a body only with POST, a first watermark for templates that need one. */
export function checkSource(options: HttpSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const templates: [string, string[]][] = [];
  if (options.path !== undefined) templates.push([options.path, ["path"]]);
  for (const [name, value] of Object.entries(options.query ?? {})) templates.push([value, ["query", name]]);
  for (const [name, value] of Object.entries(options.headers ?? {})) templates.push([value, ["headers", name]]);
  for (const [template, path] of templates) {
    const problems = templateIssues(template, path);
    issues.push(...problems);
    if (problems.length > 0 || !mentionsWatermark(template)) continue;
    if (options.watermark === undefined) issues.push({ path, message: "uses the watermark, but the source has no `watermark`" });
    else if (options.watermark.initial === undefined) issues.push({ path, message: "uses the watermark, which has no value on the first poll: set watermark.initial (or send it with watermark.param, left out while there is none)" });
  }
  const expressions: [string | undefined, string[]][] = [
    [options.body, ["body"]],
    [options.records, ["records"]],
    [options.id, ["id"]],
    [options.watermark?.field, ["watermark", "field"]],
    [options.pagination?.type === "next_link" ? options.pagination.next : undefined, ["pagination", "next"]],
    [options.pagination?.type === "cursor" ? options.pagination.cursor : undefined, ["pagination", "cursor"]],
  ];
  for (const [expression, path] of expressions) if (expression !== undefined) issues.push(...jsonataIssues(expression, path));
  if (options.body !== undefined && (options.method ?? "GET") !== "POST") issues.push({ path: ["body"], message: "a body is sent only with method: POST" });
  if (options.pagination?.type === "page" && options.pagination.size_param !== undefined && options.pagination.size === undefined) {
    issues.push({ path: ["pagination", "size"], message: "size_param needs size (the page size to send)" });
  }
  return issues;
}

/** Whether a template has a `{{ }}` part that reads the watermark. */
function mentionsWatermark(template: string): boolean {
  return /\{\{[^}]*\bwatermark\b[^}]*\}\}/.test(template);
}

function jsonataIssues(expression: string, path: string[]): ConfigIssue[] {
  try {
    jsonata(expression);
    return [];
  } catch (error) {
    return [{ path, message: `invalid JSONata: ${(error as Error).message}` }];
  }
}

function templateIssues(template: string, path: string[]): ConfigIssue[] {
  const problem = MessageTemplate.problem(template);
  return problem === undefined ? [] : [{ path, message: problem }];
}
