export type {
  Cache,
  CacheSetOptions,
  ListOptions,
  ListPush,
  ListTextPush,
  PackedListTexts,
  SetAdd,
  SetOptions,
  TokenBucket,
  TokenDecision,
} from "./port.ts";
export { DEFAULT_MAX_VALUE_BYTES, unpackListTexts } from "./port.ts";
export { CacheUnavailable } from "./errors.ts";
export { MemoryCache, type MemoryCacheOptions } from "./lru.ts";
export { GrowingLru } from "./growing-lru.ts";
export { RedisCache, createRedisCache, type RedisCacheOptions } from "./redis.ts";
export { createCache, type CacheConfig } from "./create.ts";
