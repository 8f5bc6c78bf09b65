export * from "./types.js";
export { connectorSpecs, connectorTypes, findConnector } from "./registry.js";
