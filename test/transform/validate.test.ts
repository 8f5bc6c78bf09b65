import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateTransform } from "../../src/transform/validate.js";
import { applyStep, assertConfigError, assertStepFails, buildStep, frozenMessage, issueMessages } from "./transform-assertions.js";

const userSchema = {
  type: "object",
  required: ["id", "email"],
  properties: {
    id: { type: "integer" },
    email: { type: "string", format: "email" },
    age: { type: "integer", minimum: 0 },
    created_at: { type: "string", format: "date-time" },
    ref: { type: "string", format: "uuid" },
  },
};

describe("validate", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "junction-"));
    await writeFile(join(dir, "user.schema.json"), JSON.stringify(userSchema));
    await writeFile(join(dir, "user.schema.yaml"), "type: object\nrequired: [id]\nproperties:\n  id: { type: integer }\n");
    await writeFile(join(dir, "broken.json"), "{ not json");
    await writeFile(join(dir, "bad-schema.json"), JSON.stringify({ type: "object", properties: { id: { type: "int" } } }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a valid payload passes unchanged", async () => {
    const validate = buildStep("validate", { schema: userSchema });
    const input = frozenMessage({ id: 1, email: "ann@example.com", age: 30, created_at: "2024-05-01T10:00:00Z", ref: "0b0c9a8e-3f51-4a4e-9a33-0c6f1f5a7b11" });
    assert.equal(await applyStep(validate, input), input);
  });

  test("an invalid payload is a permanent error listing every violation", async () => {
    const validate = buildStep("validate", { schema: userSchema });
    const error = await assertStepFails(
      validate,
      frozenMessage({ email: "not-an-email", age: -1, created_at: "yesterday", ref: "nope" }),
      "transform.validate_failed",
      /^validate: /,
    );
    assert.equal(
      error.message,
      'validate: /id is required; /email must match format "email"; /age must be >= 0; /created_at must match format "date-time"; /ref must match format "uuid"',
    );
    assert.deepEqual(error.context["violations"], [
      "/id is required",
      '/email must match format "email"',
      "/age must be >= 0",
      '/created_at must match format "date-time"',
      '/ref must match format "uuid"',
    ]);
  });

  test("shows at most 10 violations, then how many more", async () => {
    const validate = buildStep("validate", { schema: { type: "array", items: { type: "integer" } } });
    const error = await assertStepFails(validate, frozenMessage(Array.from({ length: 13 }, (_, i) => `x${i}`)), "transform.validate_failed", /; and 3 more$/);
    assert.equal(error.message.split("; ").length, 11);
    assert.match(error.message, /^validate: \/0 must be integer; \/1 must be integer/);
  });

  test("names extra properties and allowed values", async () => {
    const validate = buildStep("validate", { schema: { type: "object", additionalProperties: false, properties: { status: { enum: ["active", "closed"] } } } });
    const error = await assertStepFails(validate, frozenMessage({ status: "open", extra: 1 }), "transform.validate_failed", /^validate: /);
    assert.equal(error.message, 'validate: /extra is not an allowed property; /status must be one of "active", "closed"');
  });

  test("reads schema_file relative to the config directory, JSON or YAML", async () => {
    const fromJson = buildStep("validate", { schema_file: "./user.schema.json" }, dir);
    await assertStepFails(fromJson, frozenMessage({ id: 1, email: "bad" }), "transform.validate_failed", /^validate: \/email must match format "email"$/);
    const fromYaml = buildStep("validate", { schema_file: "user.schema.yaml" }, dir);
    assert.ok(await applyStep(fromYaml, frozenMessage({ id: 2 })));
    await assertStepFails(fromYaml, frozenMessage({ id: "2" }), "transform.validate_failed", /^validate: \/id must be integer$/);
  });

  test("a missing, unparsable or invalid schema file is a config error", () => {
    const missing = assertConfigError(() => buildStep("validate", { schema_file: "nope.json" }, dir), /^validate: cannot read schema_file "nope.json" .*the file does not exist; the path is relative to the config file's directory$/);
    assert.equal(missing.code, "transform.schema_file_unreadable");
    assert.deepEqual(missing.context, { step: 0, transform: "validate" });
    assertConfigError(() => buildStep("validate", { schema_file: "broken.json" }, dir), /^validate: schema_file "broken.json" is not valid JSON: /);
    assertConfigError(() => buildStep("validate", { schema_file: "bad-schema.json" }, dir), /^validate: the JSON Schema in schema_file "bad-schema.json" is invalid: properties.id.type: must be one of "array", "boolean"/);
  });

  test("honours draft-07 and refuses drafts it does not support", async () => {
    const draft7 = buildStep("validate", { schema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { tags: { items: [{ type: "string" }], additionalItems: false } } } });
    await assertStepFails(draft7, frozenMessage({ tags: ["a", "b"] }), "transform.validate_failed", /^validate: \/tags must NOT have more than 1 items$/);
    assert.deepEqual(issueMessages(validateTransform.check?.({ schema: { $schema: "http://json-schema.org/draft-04/schema#" } }) ?? []).length, 1);
  });

  test("check compiles an inline schema and reports its errors with their path", () => {
    assert.deepEqual(issueMessages(validateTransform.check?.({ schema: { type: "object", properties: { age: { minimum: "zero" } } } }) ?? []), [
      '["schema","properties","age","minimum"] must be number',
    ]);
    assert.deepEqual(issueMessages(validateTransform.check?.({ schema: { type: "object", properties: { requried: { type: "string" }, id: { type: "integer", mininum: 1 } } } }) ?? []), [
      '["schema","properties","id","mininum"] unknown keyword "mininum" (did you mean "minimum"?); fix its spelling or remove it',
    ]);
    assert.deepEqual(issueMessages(validateTransform.check?.({ schema: { type: "object", properties: { mail: { type: "string", format: "emial" } } } }) ?? []), [
      '["schema","properties","mail","format"] unknown format "emial" (did you mean "email"?); use a standard format (email, date-time, uri, uuid, …) or remove it',
    ]);
    assert.match(issueMessages(validateTransform.check?.({ schema: { $ref: "./other.json" } }) ?? [])[0] ?? "", /can't resolve reference .*put shared definitions under \$defs/);
    assert.deepEqual(issueMessages(validateTransform.check?.({ schema: { $async: true, type: "object" } }) ?? []), [
      '["schema","$async"] asynchronous schemas ($async) are not supported; remove $async',
    ]);
    assert.deepEqual(validateTransform.check?.({ schema: userSchema }), []);
    assert.deepEqual(validateTransform.check?.({ schema_file: "read-at-build.json" }), []);
  });
});
