import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtinComponents } from "../../src/engine/components.js";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { buildJsonSchema, ConfigProblemsError, formatProblems, loadConfig } from "../../src/config/index.js";
import type { ConfigComponents } from "../../src/config/index.js";

const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
const components: ConfigComponents = builtinComponents;
// The variables the fixtures may use; everything else is unset.
const env = { JUNCTION_FIXTURE_DIR: "./data" };

interface Expectation {
  line: number;
  col: number;
  path: string;
  message: string;
}

/** First line of every bad config: `# expect: <line>:<col> <path> <substring of the message>`. */
function expectationOf(file: string): Expectation {
  const first = readFileSync(file, "utf8").split("\n", 1)[0] ?? "";
  const match = /^# expect: (\d+):(\d+) (\S+) (.+)$/.exec(first);
  assert.ok(match, `${file} must start with "# expect: <line>:<col> <path> <message>"`);
  return { line: Number(match[1]), col: Number(match[2]), path: match[3] === "(root)" ? "" : (match[3] as string), message: (match[4] as string).trim() };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort();
}

describe("bad configs: each has one mistake, reported exactly where it is", () => {
  const names = yamlFiles(join(fixtures, "bad-configs"));

  test("there are enough of them", () => {
    assert.ok(names.length >= 28, `only ${names.length} bad configs`);
  });

  for (const name of names) {
    test(name, async () => {
      const file = join(fixtures, "bad-configs", name);
      const expected = expectationOf(file);
      await assert.rejects(loadConfig(file, components, { env }), (error: unknown) => {
        assert.ok(error instanceof ConfigProblemsError, `expected ConfigProblemsError, got ${String(error)}`);
        const listing = formatProblems(error.problems);
        assert.equal(error.problems.length, 1, `one mistake should give one problem, got:\n${listing}`);
        const problem = error.problems[0];
        assert.ok(problem);
        assert.deepEqual({ line: problem.line, col: problem.col, path: problem.path }, { line: expected.line, col: expected.col, path: expected.path }, listing);
        assert.ok(problem.message.includes(expected.message), `message ${JSON.stringify(problem.message)} lacks ${JSON.stringify(expected.message)}`);
        assert.ok(!/must match pattern|must be equal to|must NOT have|instancePath|schemaPath|anyOf|oneOf/.test(problem.message), `Ajv jargon in: ${problem.message}`);
        return true;
      });
    });
  }
});

describe("good configs load cleanly", () => {
  for (const name of yamlFiles(join(fixtures, "good-configs"))) {
    test(name, async () => {
      const loaded = await loadConfig(join(fixtures, "good-configs", name), components, { env });
      assert.equal(loaded.config.version, 1);
      assert.ok(Object.keys(loaded.config.integrations).length > 0);
    });
  }
});

describe("with the real registries", () => {
  test("escapes and defaults in a good config are resolved", async () => {
    const loaded = await loadConfig(join(fixtures, "good-configs", "03-generate-http-to-stdout.yaml"), components, { env: {} });
    const ticks = loaded.config.integrations.ticks;
    assert.deepEqual((ticks?.source.options.payload as Record<string, unknown>).note, "literal ${braces}");
    assert.equal(loaded.config.connections.inbox?.options.listen, "127.0.0.1:8080");
    assert.deepEqual(loaded.config.workflows, { reserved: "kept as written" });
  });

  test("the JSON Schema compiles in strict mode and accepts every good config", () => {
    const validate = new Ajv({ strictSchema: true, strictTypes: false, allErrors: true }).compile(buildJsonSchema(components));
    for (const name of yamlFiles(join(fixtures, "good-configs"))) {
      const data: unknown = parse(readFileSync(join(fixtures, "good-configs", name), "utf8"));
      assert.equal(validate(data), true, `${name}: ${JSON.stringify(validate.errors, null, 2)}`);
    }
  });
});
