import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectorSpecs } from "../../src/connectors/registry.js";
import { connectorReference, transformReference } from "../../src/scaffold/reference-docs.js";
import { transformSpecs } from "../../src/transform/registry.js";
import { repoRoot } from "../support/cli.js";

test("docs/connectors.md and docs/transforms.md match the specs (run `npm run docs`)", () => {
  assert.equal(readFileSync(join(repoRoot, "docs/connectors.md"), "utf8"), connectorReference(connectorSpecs));
  assert.equal(readFileSync(join(repoRoot, "docs/transforms.md"), "utf8"), transformReference(transformSpecs));
});

test("every connector option has a description, and every spec a summary", () => {
  for (const spec of connectorSpecs) {
    assert.ok(spec.summary.length > 10, `${spec.type} has a summary`);
    for (const [part, schema] of Object.entries({ config: spec.config, source: spec.source, sink: spec.sink })) {
      const properties = (schema as { properties?: Record<string, { description?: string }> } | undefined)?.properties ?? {};
      for (const [name, field] of Object.entries(properties)) assert.ok(field.description, `${spec.type}.${part}.${name} has no description`);
    }
  }
  for (const spec of transformSpecs) assert.ok(spec.summary.length > 10, `${spec.name} has a summary`);
});
