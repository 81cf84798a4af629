export * from "./csr.ts";
export * from "./delimited.ts";
export * from "./explicit.ts";
export * from "./interactions.ts";
export * from "./log.ts";
export * from "./parquet.ts";
export * from "./random.ts";
export * from "./split.ts";
