export {
  nameVersionInput as getInput,
  type NameVersionInput as GetInput,
} from "./name-version.schema.ts";
