import { Type } from "@sinclair/typebox";
import type { AnyConnectorSpec } from "../../src/connectors/types.js";
import type { AnyTransformSpec } from "../../src/transform/types.js";
import type { ConfigComponents } from "../../src/config/index.js";

/** Small connector and transform specs standing in for the real registries in unit tests. */
function connector(spec: Omit<AnyConnectorSpec, "summary" | "connect"> & { summary?: string }): AnyConnectorSpec {
  return {
    summary: `${spec.type} test connector`,
    connect: () => Promise.reject(new Error("test specs do not connect")),
    ...spec,
  };
}

export const database = connector({
  type: "database",
  config: Type.Object(
    {
      url: Type.String({ description: "Connection URL." }),
      password: Type.Optional(Type.String({ secret: true })),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      ssl: Type.Optional(Type.Boolean()),
      // A duration declared the way a component might, without the config layer's helper.
      connect_timeout: Type.Optional(Type.Union([Type.String({ pattern: "^\\d+(ms|s|m)$" }), Type.Integer({ minimum: 0 })])),
    },
    { additionalProperties: false },
  ),
  source: Type.Object(
    {
      table: Type.String(),
      cursor: Type.Optional(Type.String()),
      key: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  sink: Type.Object(
    {
      table: Type.String(),
      mode: Type.Optional(Type.Union([Type.Literal("insert"), Type.Literal("upsert")])),
      key: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  check: {
    source: (options: { cursor?: string; key?: string }) => (options.cursor !== undefined && options.key === undefined ? [{ path: ["key"], message: '"cursor" needs "key"' }] : []),
  },
});

export const printer = connector({
  type: "printer",
  config: Type.Object({ api_token: Type.Optional(Type.String({ secret: true })) }, { additionalProperties: false }),
  sink: Type.Object({ pretty: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
});

function transform(name: string, schema: AnyTransformSpec["schema"], check?: AnyTransformSpec["check"]): AnyTransformSpec {
  return {
    name,
    summary: `${name} test transform`,
    schema,
    example: `- ${name}: x`,
    ...(check ? { check } : {}),
    build: () => ({ name, apply: (message) => message }),
  };
}

export const testComponents: ConfigComponents = {
  connectors: [database, printer],
  transforms: [
    transform("map", Type.String({ minLength: 1 }), (value: string) => (value.includes("((") ? [{ path: [], message: "bad expression" }] : [])),
    transform("filter", Type.String({ minLength: 1 })),
    transform("rename", Type.Record(Type.String(), Type.String())),
  ],
};
