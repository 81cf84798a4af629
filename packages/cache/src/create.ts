import { MemoryCache, type MemoryCacheOptions } from "./lru.ts";
import type { Cache } from "./port.ts";
import { createRedisCache, type RedisCacheOptions } from "./redis.ts";

export type CacheConfig =
  ({ kind: "memory" } & MemoryCacheOptions) | ({ kind: "redis" } & RedisCacheOptions);

/** Builds the cache adapter a config names: Redis when a URL is configured, else the in-process LRU. */
export async function createCache(config: CacheConfig): Promise<Cache> {
  if (config.kind === "redis") return createRedisCache(config);
  return new MemoryCache(config);
}
