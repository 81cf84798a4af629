export { keyInput as getInput, type KeyInput as GetInput } from "./key.schema.ts";
