export * from "./evaluate.ts";
export * from "./metrics.ts";
export * from "./table.ts";
