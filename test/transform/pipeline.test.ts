import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../src/core/errors.js";
import { withPayload } from "../../src/core/message.js";
import type { Message } from "../../src/core/message.js";
import { applyTransforms, buildTransforms } from "../../src/transform/pipeline.js";
import type { Transform } from "../../src/transform/types.js";
import { assertConfigError, frozenMessage } from "./transform-assertions.js";

const ctx = { baseDir: process.cwd() };

/** A step that records the payloads it sees. */
function recordingStep(seen: unknown[]): Transform {
  return {
    name: "record",
    apply(message: Message) {
      seen.push(message.payload);
      return message;
    },
  };
}

describe("transform pipeline", () => {
  test("applies the steps in order, each on the previous one's output", async () => {
    const transforms = buildTransforms(
      [
        { type: "filter", value: "active" },
        { type: "map", value: '{ "id": id, "mail": $lowercase(email), "secret": secret }' },
        { type: "rename", value: { mail: "email" } },
        { type: "set", value: { source: "crm", domain: { jsonata: '$substringAfter(email, "@")' } } },
        { type: "select", value: ["id", "email", "domain", "source"] },
        { type: "validate", value: { schema: { type: "object", required: ["email"], properties: { email: { format: "email" } } } } },
      ],
      ctx,
    );
    const input = frozenMessage({ id: 1, active: true, email: "Ann@Example.com", secret: "x" }, { key: "u1" });
    const output = await applyTransforms(transforms, input);
    assert.deepEqual(output?.payload, { id: 1, email: "ann@example.com", domain: "example.com", source: "crm" });
    assert.equal(output?.id, input.id);
    assert.equal(output?.key, "u1");
    assert.deepEqual(input.payload, { id: 1, active: true, email: "Ann@Example.com", secret: "x" });
  });

  test("a filtered message stops the pipeline: later steps do not run", async () => {
    const seen: unknown[] = [];
    const transforms = [...buildTransforms([{ type: "filter", value: "amount > 100" }], ctx), recordingStep(seen)];
    assert.equal(await applyTransforms(transforms, frozenMessage({ amount: 5 })), null);
    assert.deepEqual(seen, []);
    assert.ok(await applyTransforms(transforms, frozenMessage({ amount: 500 })));
    assert.deepEqual(seen, [{ amount: 500 }]);
  });

  test("no steps returns the message as it is", async () => {
    const input = frozenMessage({ a: 1 });
    assert.equal(await applyTransforms([], input), input);
  });

  test("synchronous steps and steps returning thenables both work", async () => {
    const thenable: Transform = {
      name: "thenable",
      apply: (message) => ({ then: (resolve: (m: Message) => void) => resolve(withPayload(message, { wrapped: message.payload })) }) as unknown as Promise<Message>,
    };
    const transforms = [...buildTransforms([{ type: "set", value: { a: 1 } }], ctx), thenable];
    const output = await applyTransforms(transforms, frozenMessage({}));
    assert.deepEqual(output?.payload, { wrapped: { a: 1 } });
  });

  test("a failing step's error carries its index and name", async () => {
    const transforms = buildTransforms(
      [
        { type: "set", value: { n: 1 } },
        { type: "map", value: 'n & "" = "1" ? $error("rejected on purpose") : n' },
      ],
      ctx,
    );
    await assert.rejects(applyTransforms(transforms, frozenMessage({})), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "permanent");
      assert.equal(error.code, "transform.map_failed");
      assert.match(error.message, /^map: expression failed at position \d+: rejected on purpose$/);
      assert.equal(error.context["step"], 1);
      assert.equal(error.context["transform"], "map");
      return true;
    });
  });

  test("a failing synchronous step is reported the same way", async () => {
    const transforms = buildTransforms([{ type: "select", value: ["a"] }], ctx);
    await assert.rejects(applyTransforms(transforms, frozenMessage("text")), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.code, "transform.select_failed");
      assert.deepEqual(error.context, { step: 0, transform: "select" });
      return true;
    });
  });

  test("anything else thrown by a step becomes a permanent transform error", async () => {
    const broken: Transform = {
      name: "custom",
      apply() {
        throw new TypeError("cannot read properties of undefined");
      },
    };
    await assert.rejects(applyTransforms([broken], frozenMessage({})), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "permanent");
      assert.equal(error.code, "transform.custom_failed");
      assert.equal(error.message, "custom: cannot read properties of undefined");
      assert.deepEqual(error.context, { step: 0, transform: "custom" });
      assert.ok(error.cause instanceof TypeError);
      return true;
    });
  });

  test("an unknown transform name is a config error with a suggestion", () => {
    const error = assertConfigError(
      () => buildTransforms([{ type: "map", value: "a" }, { type: "fliter", value: "a" }], ctx),
      /^transforms\[1\]: unknown transform "fliter" \(did you mean "filter"\?\); available: map, filter, select, rename, set, validate, call$/,
    );
    assert.equal(error.code, "transform.unknown");
    assert.deepEqual(error.context, { step: 1, transform: "fliter" });
  });

  test("a value that does not match the step's schema is a config error", () => {
    assertConfigError(() => buildTransforms([{ type: "select", value: "id" }], ctx), /^transforms\[0\] \(select\): invalid value: /);
    assertConfigError(() => buildTransforms([{ type: "validate", value: { schema: {}, schema_file: "x.json" } }], ctx), /^transforms\[0\] \(validate\): invalid value/);
  });

  test("the step's own check runs before it is built", () => {
    const error = assertConfigError(
      () => buildTransforms([{ type: "set", value: { total: { jsonata: "price *" } } }], ctx),
      /^transforms\[0\] \(set\): total\.jsonata: invalid JSONata at position 7: Unexpected end of expression$/,
    );
    assert.deepEqual(error.context["issues"], [{ path: ["total", "jsonata"], message: "invalid JSONata at position 7: Unexpected end of expression" }]);
  });
});
