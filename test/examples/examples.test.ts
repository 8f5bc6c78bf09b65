import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { buildJsonSchema, loadConfig } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { repoRoot } from "../support/cli.js";

function exampleConfigs(): string[] {
  const root = join(repoRoot, "examples");
  return readdirSync(root)
    .map((name) => join(root, name, "junction.yaml"))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());
}

describe("every example config", () => {
  const schema = buildJsonSchema(builtinComponents);
  const ajv = new Ajv.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  const files = exampleConfigs();

  test("there are examples, quickstart first", () => {
    assert.ok(files.some((f) => f.includes("quickstart")));
  });

  for (const file of files) {
    test(`${file.slice(repoRoot.length)} passes the JSON Schema and the loader`, async () => {
      const document = parse(readFileSync(file, "utf8")) as unknown;
      const valid = validate(document);
      assert.ok(valid, JSON.stringify(validate.errors, null, 2));
      const loaded = await loadConfig(file, builtinComponents, { env: {} });
      assert.ok(Object.keys(loaded.config.integrations).length > 0);
    });
  }
});
