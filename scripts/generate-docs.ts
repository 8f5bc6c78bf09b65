// Writes docs/connectors.md and docs/transforms.md from the component specs.
// `npm run docs`; test/docs/reference-docs.test.ts fails when they are out of date.
import { writeFileSync } from "node:fs";
import { connectorSpecs } from "../src/connectors/registry.js";
import { connectorReference, transformReference } from "../src/scaffold/reference-docs.js";
import { transformSpecs } from "../src/transform/registry.js";

const root = new URL("..", import.meta.url);
writeFileSync(new URL("docs/connectors.md", root), connectorReference(connectorSpecs));
writeFileSync(new URL("docs/transforms.md", root), transformReference(transformSpecs));
console.log("wrote docs/connectors.md and docs/transforms.md");
