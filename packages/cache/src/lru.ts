import type { LRUCache } from "lru-cache";
import { GrowingLru } from "./growing-lru.ts";
import {
  DEFAULT_MAX_VALUE_BYTES,
  bucketRefillMs,
  checkBucket,
  checkKey,
  checkSetAdd,
  checkListOptions,
  checkListTextPush,
  checkPackedListTexts,
  checkTag,
  checkText,
  checkTtl,
  encodeListPush,
  encodeValue,
  type Cache,
  type CacheSetOptions,
  type ListOptions,
  type ListPush,
  type ListTextPush,
  type PackedListTexts,
  type SetAdd,
  type SetOptions,
  type TokenBucket,
  type TokenDecision,
  unpackListTexts,
} from "./port.ts";

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries?: number;
  /** Most bytes kept, counting key and JSON value as UTF-8 (approximate heap use, not exact). */
  maxBytes?: number;
  /** Values whose JSON is bigger than this are refused (`set` returns false). */
  maxValueBytes?: number;
  defaultTtlMs?: number;
}

/** In-process LRU cache bounded by entry count AND bytes; holds strings (JSON for `set`), so values are copied. */
export class MemoryCache implements Cache {
  readonly kind = "memory";
  private readonly lru: LRUCache<string, string>;
  /** Lists, newest first, as JSON items; bounded like the values, under their own budget. */
  private readonly lists: LRUCache<string, string[]>;
  /** Sets of strings; bounded like the values, under their own budget. */
  private readonly sets: LRUCache<string, Set<string>>;
  /** Token buckets: a forgotten (evicted or refilled-and-expired) bucket starts full again. */
  private readonly buckets: LRUCache<string, { tokens: number; at: number }>;
  /** Keys per tag, and each tagged key's tag; entries leave both when the LRU drops them. */
  private readonly tagged = new Map<string, Set<string>>();
  private readonly tagOf = new Map<string, string>();
  private readonly maxValueBytes: number;
  private readonly defaultTtlMs: number | undefined;

  constructor(options: MemoryCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    checkTtl(options.defaultTtlMs);
    this.defaultTtlMs = options.defaultTtlMs;
    this.maxValueBytes = Math.min(options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES, maxBytes);
    this.lru = new GrowingLru<string, string>(maxEntries, {
      maxSize: maxBytes,
      sizeCalculation: (value, key) => Buffer.byteLength(value) + Buffer.byteLength(key),
      allowStale: false,
      updateAgeOnGet: false,
      // Evicted, expired, deleted or overwritten: the key leaves its tag (a re-set re-adds it).
      dispose: (_value, key) => this.untag(key),
    });
    this.lists = new GrowingLru<string, string[]>(maxEntries, {
      maxSize: maxBytes,
      sizeCalculation: (items, key) =>
        Buffer.byteLength(key) + items.reduce((sum, item) => sum + Buffer.byteLength(item), 1),
      allowStale: false,
      updateAgeOnGet: false,
    });
    this.sets = new GrowingLru<string, Set<string>>(maxEntries, {
      maxSize: maxBytes,
      // Members are counted once when added (see addToSets): the size is recomputed on each set().
      sizeCalculation: (members, key) => {
        let bytes = Buffer.byteLength(key) + 1;
        for (const member of members) bytes += Buffer.byteLength(member) + 1;
        return bytes;
      },
      allowStale: false,
      updateAgeOnGet: false,
    });
    this.buckets = new GrowingLru<string, { tokens: number; at: number }>(
      Math.max(maxEntries, 100_000),
      { ttlAutopurge: false },
    );
  }

  async addToSets(entries: readonly SetAdd[], options: SetOptions = {}): Promise<void> {
    checkTtl(options.ttlMs);
    for (const entry of entries) checkSetAdd(entry);
    const ttl = options.ttlMs ?? this.defaultTtlMs;
    for (const entry of entries) {
      if (entry.members.length === 0) continue;
      this.lru.delete(entry.key); // another kind under the key is replaced, as in Redis
      this.lists.delete(entry.key);
      const members = new Set(this.sets.get(entry.key));
      for (const member of entry.members) members.add(member);
      this.sets.set(entry.key, members, ttl === undefined ? {} : { ttl });
    }
  }

  async getSet(key: string): Promise<string[]> {
    checkKey(key);
    return [...(this.sets.get(key) ?? [])];
  }

  async takeToken(key: string, bucket: TokenBucket): Promise<TokenDecision> {
    checkKey(key);
    checkBucket(bucket);
    const now = performance.now();
    const held = this.buckets.get(key);
    let tokens = bucket.burst;
    if (held)
      tokens = Math.min(
        bucket.burst,
        held.tokens + (Math.max(0, now - held.at) / 1000) * bucket.ratePerSecond,
      );
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.buckets.set(key, { tokens, at: now }, { ttl: bucketRefillMs(bucket) });
    return {
      allowed,
      retryAfterMs: allowed
        ? 0
        : Math.max(1, Math.ceil(((1 - tokens) / bucket.ratePerSecond) * 1000)),
    };
  }

  async pushLists(entries: readonly ListPush[], options: ListOptions): Promise<void> {
    checkListOptions(options);
    this.pushEncoded(
      entries.map((entry) => ({ key: entry.key, texts: encodeListPush(entry, options) })),
      options,
    );
  }

  private pushEncoded(pushes: readonly ListTextPush[], options: ListOptions): void {
    const ttl = options.ttlMs ?? this.defaultTtlMs;
    for (const entry of pushes) {
      const fresh = [...entry.texts];
      if (fresh.length === 0) continue;
      this.lru.delete(entry.key); // a value or set under the key is replaced, as in Redis
      this.sets.delete(entry.key);
      const items = [...fresh.reverse(), ...(this.lists.get(entry.key) ?? [])].slice(
        0,
        options.maxLength,
      );
      this.lists.set(entry.key, items, ttl === undefined ? {} : { ttl });
    }
  }

  async pushListTexts(entries: readonly ListTextPush[], options: ListOptions): Promise<void> {
    checkListOptions(options);
    this.pushEncoded(
      entries.map((entry) => ({ key: entry.key, texts: checkListTextPush(entry, options) })),
      options,
    );
  }

  async pushPackedListTexts(pushes: PackedListTexts, options: ListOptions): Promise<void> {
    checkListOptions(options);
    checkPackedListTexts(pushes);
    this.pushEncoded(unpackListTexts(pushes), options);
  }

  async getList<T = unknown>(key: string): Promise<T[]> {
    checkKey(key);
    return (this.lists.get(key) ?? []).map((item) => JSON.parse(item) as T);
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const json = await this.getText(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<boolean> {
    checkKey(key);
    return this.setText(key, encodeValue(value), options);
  }

  async getText(key: string): Promise<string | undefined> {
    checkKey(key);
    return this.lru.get(key);
  }

  async setText(key: string, text: string, options: CacheSetOptions = {}): Promise<boolean> {
    checkKey(key);
    checkText(text);
    checkTtl(options.ttlMs);
    checkTag(options.tag);
    // Counted once here and handed to the LRU (its sizeCalculation would count both again).
    const size = Buffer.byteLength(text) + Buffer.byteLength(key);
    if (size > this.maxValueBytes) {
      this.lru.delete(key); // an older value must not survive a refused overwrite
      return false;
    }
    const ttl = options.ttlMs ?? this.defaultTtlMs;
    // A list or set under the key is replaced, as in Redis (no lookup while there are none).
    if (this.lists.size > 0) this.lists.delete(key);
    if (this.sets.size > 0) this.sets.delete(key);
    this.lru.set(key, text, ttl === undefined ? { size } : { ttl, size });
    if (this.tagOf.size > 0) this.untag(key); // an overwrite with an equal value is not disposed
    if (options.tag !== undefined && this.lru.has(key)) {
      this.tagOf.set(key, options.tag);
      let keys = this.tagged.get(options.tag);
      if (!keys) this.tagged.set(options.tag, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  async deleteTag(tag: string): Promise<number> {
    checkTag(tag);
    const keys = this.tagged.get(tag);
    if (!keys) return 0;
    let removed = 0;
    for (const key of [...keys]) if (this.lru.delete(key)) removed += 1;
    this.tagged.delete(tag);
    return removed;
  }

  private untag(key: string): void {
    const tag = this.tagOf.get(key);
    if (tag === undefined) return;
    this.tagOf.delete(key);
    const keys = this.tagged.get(tag);
    keys?.delete(key);
    if (keys?.size === 0) this.tagged.delete(tag);
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    const list = this.lists.delete(key);
    const set = this.sets.delete(key);
    return this.lru.delete(key) || list || set;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    checkKey(prefix);
    let removed = 0;
    // Collect first: deleting while iterating an LRUCache skips entries.
    for (const key of [...this.lru.keys()].filter((k) => k.startsWith(prefix)))
      if (this.lru.delete(key)) removed += 1;
    for (const key of [...this.lists.keys()].filter((k) => k.startsWith(prefix)))
      if (this.lists.delete(key)) removed += 1;
    for (const key of [...this.sets.keys()].filter((k) => k.startsWith(prefix)))
      if (this.sets.delete(key)) removed += 1;
    return removed;
  }

  /** Entries and bytes held now (expired entries not yet purged may still count). */
  get usage(): { entries: number; bytes: number } {
    return {
      entries: this.lru.size + this.lists.size + this.sets.size,
      bytes: this.lru.calculatedSize + this.lists.calculatedSize + this.sets.calculatedSize,
    };
  }

  async close(): Promise<void> {
    this.lru.clear();
    this.lists.clear();
    this.sets.clear();
    this.buckets.clear();
    this.tagged.clear();
    this.tagOf.clear();
  }
}
