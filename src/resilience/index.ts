export * from "./backoff.js";
export * from "./clock.js";
export * from "./events.js";
export * from "./fake-clock.js";
export * from "./policy.js";
