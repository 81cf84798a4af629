export { startPrivateKafka, type PrivateKafka, type PrivateKafkaOptions } from "./kafka.ts";
export type { PrivateProcess } from "./managed-process.ts";
export { uniqueName } from "./names.ts";
export { freePort } from "./ports.ts";
export { startPrivatePostgres, type PrivatePostgres } from "./postgres.ts";
export { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from "./redis.ts";
export { waitFor, type WaitOptions } from "./wait.ts";
export { createScratchDatabase, type ScratchDatabase } from "./scratch-database.ts";
export {
  sharedBucket,
  sharedServices,
  type SharedBucket,
  type SharedServices,
} from "./shared-services.ts";
export {
  answers,
  copyCheckout,
  productPorts,
  startProduct,
  type RunningProduct,
  type StartProductOptions,
} from "./product.ts";
