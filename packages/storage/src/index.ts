export { type ObjectInfo, type ObjectStorage, StorageUnavailable, checkKey } from "./port.ts";
export { LocalDirectoryStorage } from "./local.ts";
export { S3Storage, type S3StorageConfig } from "./s3.ts";
export { createObjectStorage } from "./config.ts";
export {
  pickStorageEnv,
  storageEnvFields,
  storageEnvProblem,
  type StorageEnv,
} from "./env-fields.ts";
