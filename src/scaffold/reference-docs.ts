import type { AnyConnectorSpec } from "../connectors/types.js";
import type { AnyTransformSpec } from "../transform/types.js";

/** JSON-Schema-ish view of a TypeBox schema, enough to document it. */
interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  secret?: boolean;
}

function typeOf(node: SchemaNode): string {
  const variants = node.anyOf ?? node.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(" \\| ");
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "values"}`;
  if (Array.isArray(node.type)) return node.type.join(" \\| ");
  return node.type ?? "any";
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n+/g, " ");
}

/** A Markdown table of an object schema's fields: name, type, default, description. */
export function optionsTable(schema: unknown): string {
  const node = schema as SchemaNode;
  const properties = node.properties ?? {};
  const required = new Set(node.required ?? []);
  const names = Object.keys(properties);
  if (names.length === 0) return "_No options._\n";
  const rows = names.map((name) => {
    const field = properties[name] as SchemaNode;
    const flags = [required.has(name) ? "**required**" : "", field.secret ? "secret" : ""].filter(Boolean).join(", ");
    const fallback = field.default === undefined ? "" : `\`${JSON.stringify(field.default)}\``;
    return `| \`${name}\` | ${cell(typeOf(field))} | ${fallback} | ${cell([flags, field.description ?? ""].filter(Boolean).join(" — "))} |`;
  });
  return ["| option | type | default | description |", "|---|---|---|---|", ...rows, ""].join("\n");
}

export function connectorReference(specs: readonly AnyConnectorSpec[]): string {
  const parts = [
    "# Connectors",
    "",
    "<!-- Generated from the connector specs by `npm run docs`; edit the specs in src/connectors/<name>/, not this file. -->",
    "",
    "A connection is declared once under `connections:` with its `type` and options, then used by name",
    "as an integration's `source` or `target`. Every connection also accepts `required` (default `true`:",
    "`/ready` waits for it) and `resilience` (same keys as an integration's).",
    "",
    "| type | source | target | summary |",
    "|---|---|---|---|",
    ...specs.map((s) => `| [\`${s.type}\`](#${s.type.replace(/_/g, "_")}) | ${s.source ? "yes" : ""} | ${s.sink ? "yes" : ""} | ${cell(s.summary)} |`),
    "",
  ];
  for (const spec of specs) {
    parts.push(`## ${spec.type}`, "", spec.summary, "", "### Connection options", "", optionsTable(spec.config));
    if (spec.source) {
      const description = (spec.source as SchemaNode).description;
      parts.push("### As a source", "", ...(description ? [description, ""] : []), "Options under `source:` besides `connection`:", "", optionsTable(spec.source));
    }
    if (spec.sink) {
      const description = (spec.sink as SchemaNode).description;
      parts.push("### As a target", "", ...(description ? [description, ""] : []), "Options under `target:` besides `connection`:", "", optionsTable(spec.sink));
    }
    if (spec.example) parts.push("### Example", "", "```yaml", spec.example.trimEnd(), "```", "");
  }
  return `${parts.join("\n").trimEnd()}\n`;
}

export function transformReference(specs: readonly AnyTransformSpec[]): string {
  const parts = [
    "# Transforms",
    "",
    "<!-- Generated from the transform specs by `npm run docs`; edit the specs in src/transform/, not this file. -->",
    "",
    "An integration's `transform:` is a list of steps applied in order; each step is a one-key object",
    "naming the transform. A step that fails is a permanent error: the message goes to the dead-letter",
    "store with the reason (and `junction dlq replay` runs the current steps again once fixed). A `filter`",
    "that drops a message settles it as filtered.",
    "",
    "| transform | summary |",
    "|---|---|",
    ...specs.map((s) => `| [\`${s.name}\`](#${s.name}) | ${cell(s.summary)} |`),
    "",
  ];
  for (const spec of specs) {
    const schema = spec.schema as SchemaNode;
    parts.push(`## ${spec.name}`, "", spec.summary, "");
    if (schema.description) parts.push(`Value: ${schema.description}`, "");
    if (schema.properties) parts.push(optionsTable(schema));
    else if (schema.anyOf ?? schema.oneOf) {
      for (const variant of (schema.anyOf ?? schema.oneOf) as SchemaNode[]) {
        if (variant.properties) parts.push(optionsTable(variant));
        else parts.push(`- ${typeOf(variant)}${variant.description ? `: ${cell(variant.description)}` : ""}`, "");
      }
    }
    parts.push("```yaml", "transform:", spec.example.trimEnd().replace(/^/gm, "  "), "```", "");
  }
  return `${parts.join("\n").trimEnd()}\n`;
}
