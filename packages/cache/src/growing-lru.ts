import { LRUCache } from "lru-cache";

/**
 * An LRU bounded by entry count (and optionally by `maxSize`) whose storage grows with what it
 * holds. lru-cache allocates and fills its arrays for `max` entries up front (keys, values, links,
 * sizes, ages): ~5 MB at 100,000 entries per cache, in every process, used or not — the api's
 * caches held ~19 MB of them at rest. Without `max` it grows them instead; the count bound is kept
 * here, evicting the least recently used like `max` would (dispose runs with reason "evict").
 */
export class GrowingLru<
  K extends NonNullable<unknown>,
  V extends NonNullable<unknown>,
> extends LRUCache<K, V> {
  private readonly maxEntries: number;

  constructor(maxEntries: number, options: Omit<LRUCache.OptionsBase<K, V, unknown>, "max"> = {}) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    // Bounded by count alone, each entry weighs 1.
    super(
      options.maxSize
        ? { ...options, maxSize: options.maxSize }
        : { ...options, maxSize: maxEntries, sizeCalculation: () => 1 },
    );
    this.maxEntries = maxEntries;
  }

  override set(key: K, value: V | undefined, options?: LRUCache.SetOptions<K, V, unknown>): this {
    super.set(key, value, options);
    while (this.size > this.maxEntries) this.pop();
    return this;
  }
}
