import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { buildJsonSchema } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";

const valid = `version: 1
name: demo
admin: false
connections:
  db:
    type: database
    url: sqlite:data.db
    password: secret-value
    required: false
    resilience: { retry: { attempts: 3 } }
  out: { type: printer }
integrations:
  users:
    source: { connection: db, table: users, cursor: updated_at, key: id }
    transform:
      - map: '{ "id": id }'
      - rename: { full_name: name }
    target: { connection: out, pretty: true }
    sync: { trigger: schedule, schedule: "*/5 * * * *", batch_bytes: 1mb, batch_period: 250ms }
workflows: { anything: [1, 2] }
`;

function compile(): ReturnType<Ajv["compile"]> {
  // strictSchema rejects unknown keywords: the schema must hold only what editors understand.
  const ajv = new Ajv({ strictSchema: true, strictTypes: false, allErrors: true });
  return ajv.compile(buildJsonSchema(testComponents));
}

describe("buildJsonSchema", () => {
  test("is a draft-07 schema that compiles in strict mode and accepts a valid config", () => {
    const schema = buildJsonSchema(testComponents);
    assert.equal(schema.$schema, "http://json-schema.org/draft-07/schema#");
    const validate = compile();
    assert.equal(validate(parse(valid)), true, JSON.stringify(validate.errors, null, 2));
  });

  test("checks each connection block against its connector's schema by type", () => {
    const validate = compile();
    const typo = parse(valid) as { connections: { db: Record<string, unknown> } };
    typo.connections.db.urll = "x";
    assert.equal(validate(typo), false);
    assert.ok(validate.errors?.some((e) => e.keyword === "additionalProperties" && e.params.additionalProperty === "urll"));

    const unknownType = parse(valid) as { connections: { db: Record<string, unknown> } };
    unknownType.connections.db.type = "nosuch";
    assert.equal(validate(unknownType), false);
  });

  test("checks engine keys, durations and transform steps", () => {
    const validate = compile();
    const config = parse(valid) as { integrations: { users: { sync: Record<string, unknown>; transform: unknown[] } } };
    config.integrations.users.sync.batch_period = "5 minutes";
    assert.equal(validate(config), false);
    const step = parse(valid) as { integrations: { users: { transform: unknown[] } } };
    step.integrations.users.transform.push({ nosuch: "x" });
    assert.equal(validate(step), false);
  });

  test("keeps descriptions, marks secret fields writeOnly and drops custom keywords", () => {
    const schema = buildJsonSchema(testComponents);
    const text = JSON.stringify(schema);
    assert.ok(!text.includes("junctionUnit"));
    assert.ok(!text.includes('"secret":true'), "the secret marker is dropped (a property named secret stays)");
    assert.ok(text.includes('"writeOnly":true'));
    assert.ok(text.includes("Connection URL."));
    assert.ok(text.includes("database test connector"));
  });
});
