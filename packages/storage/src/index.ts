export { type ObjectInfo, type ObjectStorage, StorageUnavailable, checkKey } from "./port.ts";
export { LocalDirectoryStorage } from "./local.ts";
export { S3Storage, type S3StorageConfig } from "./s3.ts";
export {
  createObjectStorage,
  storageEnvFields,
  storageEnvProblem,
  type StorageEnv,
} from "./config.ts";
