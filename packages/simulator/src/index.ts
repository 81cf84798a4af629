export * from "./click-model.ts";
export * from "./demo-data.ts";
export * from "./random.ts";
export * from "./simulator.ts";
export * from "./token-bucket.ts";
