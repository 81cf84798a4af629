export type * from "./params.ts";
export * from "./data/index.ts";
