import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, isNode } from "yaml";
import type { Document, Node, Pair } from "yaml";
import type { ConfigPath, ConfigProblem } from "./problems.js";
import { formatPath } from "./problems.js";

export interface ConfigPosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

/** The text a config came from, and where each of its values is written. */
export interface ConfigSource {
  /** Absolute path of the file, or "<inline>". */
  readonly file: string;
  /** Directory relative paths resolve against. */
  readonly baseDir: string;
  readonly text: string;
  /**
   * Where the value at `path` is written (its key with `at: "key"`). When the path does
   * not exist, the nearest existing parent's key.
   */
  locate(path: ConfigPath, at?: "value" | "key"): ConfigPosition;
  /** Source offsets [start, end) of the value at `path`, when it is written in the file. */
  rangeOf(path: ConfigPath): [number, number] | undefined;
  positionAt(offset: number): ConfigPosition;
  /** Path of the innermost key or value written at `offset`. */
  pathAt(offset: number): Array<string | number>;
}

interface Found {
  node: Node | null;
  key: Node | null;
  complete: boolean;
}

class YamlConfigSource implements ConfigSource {
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(
    readonly file: string,
    readonly baseDir: string,
    readonly text: string,
    doc: Document,
    lines: LineCounter,
  ) {
    this.#doc = doc;
    this.#lines = lines;
  }

  positionAt(offset: number): ConfigPosition {
    const { line, col } = this.#lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line, col };
  }

  locate(path: ConfigPath, at: "value" | "key" = "value"): ConfigPosition {
    const found = this.#find(path);
    const valueStart = startOf(found.node);
    const keyStart = startOf(found.key);
    if (found.complete && at === "value" && valueStart !== undefined && !isEmptyScalar(found.node)) return this.positionAt(valueStart);
    if (keyStart !== undefined) return this.positionAt(keyStart);
    if (valueStart !== undefined) return this.positionAt(valueStart);
    return { line: 1, col: 1 };
  }

  rangeOf(path: ConfigPath): [number, number] | undefined {
    const found = this.#find(path);
    if (!found.complete || !found.node?.range) return undefined;
    return [found.node.range[0], found.node.range[1]];
  }

  pathAt(offset: number): Array<string | number> {
    const path: Array<string | number> = [];
    let node = this.#doc.contents as Node | null;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => contains(p.key, offset) || contains(p.value, offset));
        if (!pair) return path;
        path.push(keyName(pair));
        if (contains(pair.key, offset)) return path;
        node = pair.value as Node | null;
      } else if (isSeq(node)) {
        const index = node.items.findIndex((item) => contains(item, offset));
        if (index < 0) return path;
        path.push(index);
        node = node.items[index] as Node | null;
      } else {
        return path;
      }
    }
  }

  #find(path: ConfigPath): Found {
    let node = this.#doc.contents as Node | null;
    let key: Node | null = null;
    for (const segment of path) {
      if (isAlias(node)) node = (node.resolve(this.#doc) as Node | undefined) ?? null;
      if (isMap(node)) {
        const pair = findPair(node.items as Pair[], String(segment), this.#doc);
        if (!pair) return { node, key, complete: false };
        key = isNode(pair.key) ? pair.key : key;
        node = isNode(pair.value) ? pair.value : null;
        if (node === null) return { node, key, complete: true };
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (!isNode(item)) return { node, key, complete: false };
        node = item;
        key = null;
      } else {
        return { node, key, complete: false };
      }
    }
    return { node, key, complete: true };
  }
}

/** A pair by key, looking through `<<` merge keys. */
function findPair(items: Pair[], name: string, doc: Document): Pair | undefined {
  const direct = items.find((p) => isPair(p) && keyName(p) === name);
  if (direct) return direct;
  for (const pair of items) {
    if (keyName(pair) !== "<<") continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const resolved = isAlias(source) ? source.resolve(doc) : source;
      if (isMap(resolved)) {
        const found = findPair(resolved.items as Pair[], name, doc);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function keyName(pair: Pair): string {
  if (!isScalar(pair.key)) return String(pair.key);
  // A merge key's value is a symbol; its source text is "<<".
  return typeof pair.key.value === "symbol" ? (pair.key.source ?? "<<") : String(pair.key.value);
}

function startOf(node: Node | null | undefined): number | undefined {
  return node?.range ? node.range[0] : undefined;
}

function contains(node: unknown, offset: number): boolean {
  if (!isNode(node) || !node.range) return false;
  return node.range[0] <= offset && offset < Math.max(node.range[2], node.range[0] + 1);
}

function isEmptyScalar(node: Node | null): boolean {
  return isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
}

export interface ParsedConfigText {
  source: ConfigSource;
  /** The plain data (aliases and merge keys resolved); undefined when the YAML is broken. */
  value: unknown;
  problems: ConfigProblem[];
}

const MAX_YAML_PROBLEMS = 10;
const MAX_KEY_LENGTH = 80;
const MAX_TOKEN_TEXT = 100;

/** Parses YAML keeping positions; syntax errors and duplicate keys come back as problems. */
export function parseConfigText(text: string, file: string, baseDir: string): ParsedConfigText {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: true });
  const source = new YamlConfigSource(file, baseDir, text, doc, lines);
  // Past the first few, YAML errors are mostly echoes of the first ones.
  const problems: ConfigProblem[] = doc.errors.slice(0, MAX_YAML_PROBLEMS).map((error) => {
    const offset = error.pos[0];
    // Errors between nodes (a tab in indentation) get the root path; so do "keys" that are really stray text.
    const found = source.pathAt(offset);
    const path = found.some((segment) => String(segment).length > MAX_KEY_LENGTH) ? [] : found;
    const { line, col } = source.positionAt(offset);
    return { file, line, col, path: formatPath(path), message: yamlErrorMessage(error.code, error.message, path, source) };
  });
  if (problems.length > 0) return { source, value: undefined, problems };
  return { source, value: doc.toJS({ maxAliasCount: 1000 }) as unknown, problems };
}

function yamlErrorMessage(code: string, message: string, path: Array<string | number>, source: YamlConfigSource): string {
  switch (code) {
    case "DUPLICATE_KEY": {
      const name = path[path.length - 1];
      if (name === undefined) return "duplicate key: each key may appear only once in a map";
      const first = source.locate(path, "key");
      return `duplicate key "${name}" (first defined at line ${first.line}): each key may appear only once in a map`;
    }
    case "TAB_AS_INDENT":
      return "tab used for indentation: YAML only allows spaces";
    case "MULTIPLE_DOCS":
      return 'more than one YAML document ("---"): a config file holds exactly one';
    default: {
      const flat = message.replace(/\s+/g, " ").trim();
      const text = flat.length > MAX_TOKEN_TEXT ? `${flat.slice(0, MAX_TOKEN_TEXT - 1)}…` : flat;
      return `invalid YAML: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
    }
  }
}
