export { idInput as getInput, type IdInput as GetInput } from "./id.schema.ts";
