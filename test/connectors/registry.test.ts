import { test } from "node:test";
import assert from "node:assert/strict";
import { connectorSpecs, connectorTypes, findConnector } from "../../src/connectors/registry.js";
import type { TSchema } from "@sinclair/typebox";

test("the registry lists every built-in connector once, and findConnector finds each by type", () => {
  assert.deepEqual(connectorTypes().sort(), ["amqp", "discard", "file", "generate", "http", "http_server", "mqtt", "mysql", "nats", "postgres", "redis", "sqlite", "stdout"]);
  for (const spec of connectorSpecs) assert.equal(findConnector(spec.type), spec);
  assert.equal(findConnector("nope"), undefined);
});

test("every spec documents itself: summary, example, and a description on every schema field", () => {
  const undocumented: string[] = [];
  const walk = (schema: TSchema, path: string): void => {
    if (path !== "" && typeof schema.description !== "string" && schema.anyOf === undefined) undocumented.push(path);
    if (schema.anyOf !== undefined && typeof schema.description !== "string") undocumented.push(path);
    for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) walk(value, `${path}.${key}`);
    if (schema.items !== undefined && !Array.isArray(schema.items)) walk(schema.items as TSchema, `${path}[]`);
  };
  for (const spec of connectorSpecs) {
    assert.ok(spec.summary.length > 10, spec.type);
    assert.match(spec.example ?? "", new RegExp(`type: ${spec.type}`), spec.type);
    assert.ok(spec.source !== undefined || spec.sink !== undefined, spec.type);
    assert.equal(spec.config.additionalProperties, false, spec.type);
    for (const [name, schema] of [["config", spec.config], ["source", spec.source], ["sink", spec.sink]] as const) {
      if (schema === undefined) continue;
      assert.equal(typeof schema.description, "string", `${spec.type}.${name}`);
      walk(schema, `${spec.type}.${name}`);
    }
  }
  assert.deepEqual(undocumented, []);
});
