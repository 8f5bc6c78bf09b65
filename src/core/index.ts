export * from "./abort.js";
export * from "./duration.js";
export * from "./errors.js";
export * from "./ids.js";
export * from "./message.js";
export * from "./size.js";
export * from "./redact.js";
export * from "./health.js";
