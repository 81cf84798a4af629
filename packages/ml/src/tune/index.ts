export * from "./search.ts";
