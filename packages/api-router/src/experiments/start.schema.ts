export { keyInput as startInput, type KeyInput as StartInput } from "./key.schema.ts";
