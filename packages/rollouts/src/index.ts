export * from "./plan.ts";
export * from "./errors.ts";
export * from "./routing.ts";
export * from "./gates.ts";
export * from "./machine.ts";
export * from "./simulate.ts";
