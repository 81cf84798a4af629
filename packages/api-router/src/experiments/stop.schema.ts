export { keyInput as stopInput, type KeyInput as StopInput } from "./key.schema.ts";
