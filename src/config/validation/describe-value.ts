const MAX_SHOWN = 60;

/** How a value reads in a message: `"abc"`, `42`, `a map`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return "nothing";
  if (typeof value === "string") {
    const shown = JSON.stringify(value);
    return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN - 4)}…"` : shown;
  }
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  object: "a map",
  array: "a list",
  null: "nothing (null)",
};

/** "a number", "a string or a list" for a JSON Schema `type`. */
export function describeType(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(",");
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(" or ");
}
