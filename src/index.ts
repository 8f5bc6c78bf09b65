/**
 * Junction as a library: the same building blocks the CLI and the declarative runtime use.
 *
 *   import { JunctionRuntime, loadConfig, builtinComponents } from "junction";
 *   const runtime = await JunctionRuntime.open(await loadConfig("junction.yaml", builtinComponents));
 *   await runtime.run({ once: true });
 *   await runtime.close();
 */
export * from "./core/index.js";
export * from "./config/index.js";
export * from "./connectors/index.js";
export * from "./oauth2/index.js";
export * from "./transform/index.js";
export * from "./state/index.js";
export * from "./observability/index.js";
export * from "./resilience/index.js";
export * from "./server/index.js";
export * from "./engine/index.js";
export * from "./webhooks/signatures/index.js";
