export * from "./search.ts";
export * from "./train.ts";
