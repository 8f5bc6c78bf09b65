import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { AnyConnectorSpec } from "../connectors/types.js";
import type { AnyTransformSpec } from "../transform/types.js";
import type { ConfigIssue } from "./issues.js";
import { SecretRedactor } from "../core/redact.js";
import { interpolateTree } from "./interpolation.js";
import { restoreInterpolatedTypes } from "./interpolated-types.js";
import type { JunctionConfig } from "./model.js";
import { normaliseConfig } from "./normalise.js";
import type { ConfigProblem } from "./problems.js";
import { ConfigProblemsError, formatPath } from "./problems.js";
import { topLevelSchema } from "./schema/engine.js";
import { SecretFields } from "./secrets.js";
import type { ConfigSource } from "./source.js";
import { parseConfigText } from "./source.js";
import { validateComponents } from "./validation/components.js";
import type { ComponentIndex } from "./validation/components.js";
import { describeValue } from "./validation/describe-value.js";
import { checkEngineRules } from "./validation/engine-checks.js";
import type { LocatedIssue } from "./validation/located-issue.js";
import { isPlainMap } from "./validation/plain-map.js";
import { validateAgainst } from "./validation/schema-validator.js";

/** The connectors and transforms a config may use; their specs drive validation. */
export interface ConfigComponents {
  connectors: readonly AnyConnectorSpec[];
  transforms: readonly AnyTransformSpec[];
  /** Semantic checks of the `webhooks:` entries (secrets, expressions, addresses) by the webhook runtimes. */
  webhooks?: WebhookConfigChecks;
}

/** Each takes one entry as written (schema-valid) and returns problems with paths relative to it. */
export interface WebhookConfigChecks {
  inbound(entry: Record<string, unknown>): ConfigIssue[];
  outbound(entry: Record<string, unknown>): ConfigIssue[];
  /** The options of a `target: { webhook: … }` besides `webhook`. */
  outboundTarget(options: Record<string, unknown>): ConfigIssue[];
}

export interface LoadConfigOptions {
  /** Variables for `${VAR}`; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths resolve against; default the file's directory (cwd for "<inline>"). */
  baseDir?: string;
}

export interface LoadedConfig {
  config: JunctionConfig;
  /** Knows every interpolated value and every value of a field marked secret. */
  redactor: SecretRedactor;
  /** Where each value is written, for errors found later (e.g. at connect time). */
  source: ConfigSource;
  /** File paths of the fields marked secret, e.g. ["connections", "db", "password"]. */
  secretPaths: ReadonlyArray<ReadonlyArray<string | number>>;
}

export const INLINE_FILE = "<inline>";

const structure = topLevelSchema();

/** Reads, interpolates, validates and normalises a config file; throws ConfigProblemsError listing every problem. */
export async function loadConfig(path: string, components: ConfigComponents, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message =
      code === "ENOENT"
        ? 'config file not found: create one with "junction init", or pass the path of an existing one'
        : `cannot read the config file: ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigProblemsError([{ file, line: 1, col: 1, path: "", message }]);
  }
  return loadConfigFromString(text, file, components, options);
}

/** Like loadConfig for text already in memory; `file` names it in problems ("<inline>" for none). */
export async function loadConfigFromString(text: string, file: string, components: ConfigComponents, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  return loadSync(text, file, components, options);
}

function loadSync(text: string, file: string, components: ConfigComponents, options: LoadConfigOptions): LoadedConfig {
  const inline = file === INLINE_FILE;
  const absolute = inline ? file : resolve(file);
  const baseDir = options.baseDir ?? (inline ? process.cwd() : dirname(absolute));
  const redactor = new SecretRedactor();
  const fail = (problems: ConfigProblem[]): never => {
    throw new ConfigProblemsError(problems.map((p) => ({ ...p, message: redactor.redact(p.message) })));
  };

  const parsed = parseConfigText(text, absolute, baseDir);
  const { source } = parsed;
  if (parsed.problems.length > 0) return fail(parsed.problems);
  const tree = parsed.value;
  if (!isPlainMap(tree)) {
    const message =
      tree === null || tree === undefined
        ? 'the file is empty: start with "version: 1", then add connections and integrations'
        : `expected a map of settings at the top level (version, connections, integrations, …), got ${describeValue(tree)}`;
    const { line, col } = source.locate([]);
    return fail([{ file: absolute, line, col, path: "", message }]);
  }

  // An empty `connections:` or `integrations:` section (as in a fresh template) means none.
  for (const section of ["connections", "integrations"]) if (tree[section] === null) delete tree[section];
  const interpolated = interpolateTree(tree, { env: options.env ?? process.env, source, redactor });
  const root = restoreInterpolatedTypes(structure, interpolated.value, [], interpolated.whollyInterpolated) as Record<string, unknown>;
  registerStatePassword(root.state, redactor);

  const secrets = new SecretFields(redactor);
  // The engine's own secret fields (Redis URLs of resilience blocks); connectors' are collected as they are validated.
  secrets.collect(structure, root, []);
  for (const path of secrets.paths) registerUrlPassword(valueAt(root, path), redactor);
  const index: ComponentIndex = {
    connectors: new Map(components.connectors.map((spec) => [spec.type, spec])),
    transforms: new Map(components.transforms.map((spec) => [spec.name, spec])),
    ...(components.webhooks ? { webhooks: components.webhooks } : {}),
  };
  const issues: LocatedIssue[] = [
    ...validateAgainst(structure, root),
    ...checkEngineRules(root),
    ...validateComponents(root, { components: index, whollyInterpolated: interpolated.whollyInterpolated, secrets }),
  ];

  // A value whose interpolation failed is wrong already; its schema errors would only repeat that.
  const failedPaths = new Set(interpolated.problems.map((p) => p.path));
  const problems: ConfigProblem[] = [
    ...interpolated.problems,
    ...issues
      .filter((issue) => !failedPaths.has(formatPath(issue.path)))
      .map((issue) => {
        const { line, col } = source.locate(issue.path, issue.at ?? "value");
        return { file: absolute, line, col, path: formatPath(issue.path), message: issue.message };
      }),
  ];
  if (problems.length > 0) fail(problems);

  return { config: normaliseConfig(root, absolute, baseDir), redactor, source, secretPaths: secrets.paths };
}

/** A password inside the state store URL (postgres://user:secret@host/db) never shows up in logs. */
function registerStatePassword(state: unknown, redactor: SecretRedactor): void {
  if (typeof state === "string" && /^postgres(ql)?:\/\//.test(state)) registerUrlPassword(state, redactor);
}

/** The password part of a URL, as written and decoded, so that it is redacted even when shown apart from the URL. */
function registerUrlPassword(url: unknown, redactor: SecretRedactor): void {
  if (typeof url !== "string") return;
  try {
    const password = new URL(url).password;
    if (password) {
      redactor.add(password);
      redactor.add(decodeURIComponent(password));
    }
  } catch {
    // Not a parseable URL: validation reports it.
  }
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let node = root;
  for (const segment of path) node = isPlainMap(node) ? node[segment] : undefined;
  return node;
}
