import assert from "node:assert/strict";
import type { ConfigComponents, ConfigProblem, LoadConfigOptions } from "../../src/config/index.js";
import { ConfigProblemsError, loadConfigFromString } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";

/** The problems a config text has, asserting that loading it fails the way it should. */
export async function problemsOf(text: string, options: LoadConfigOptions = {}, components: ConfigComponents = testComponents): Promise<ConfigProblem[]> {
  try {
    await loadConfigFromString(text, "junction.yaml", components, { env: {}, ...options });
  } catch (error) {
    assert.ok(error instanceof ConfigProblemsError, `expected ConfigProblemsError, got ${String(error)}`);
    assert.equal(error.kind, "config");
    return error.problems;
  }
  assert.fail("expected the config to be rejected");
}

/** The one problem at `path`, failing with the full list when there is not exactly one. */
export function problemAt(problems: readonly ConfigProblem[], path: string): ConfigProblem {
  const found = problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `expected one problem at ${path}, got:\n${problems.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`).join("\n")}`);
  return found[0] as ConfigProblem;
}

/** A minimal valid config around the given integration body lines (indented 4 spaces). */
export function withIntegration(lines: string): string {
  return `version: 1
connections:
  db:
    type: database
    url: sqlite:data.db
  out:
    type: printer
integrations:
  users:
${lines}
`;
}
