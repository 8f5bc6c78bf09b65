import type { ConfigComponents } from "../config/loader.js";
import { connectorSpecs } from "../connectors/registry.js";
import { transformSpecs } from "../transform/registry.js";

/** Every connector and transform built into Junction: what config validation, JSON Schema and docs are made from. */
export const builtinComponents: ConfigComponents = { connectors: connectorSpecs, transforms: transformSpecs };
