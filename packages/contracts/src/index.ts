export * from "./events.ts";
export * from "./topics.ts";
export * from "./validate.ts";
export * from "./config.ts";
export * from "./errors.ts";
export * from "./cli.ts";
export * from "./worker-thread.ts";
export * from "./features.ts";
