/**
 * The cache port: a key/value store for JSON values with per-entry TTL.
 * Values go in and come out as JSON (a value is serialised on `set`, parsed on `get`), so every
 * adapter has the same semantics: `Date`s come back as strings, `undefined` fields vanish, and
 * mutating a returned object never changes what is stored.
 */
export interface Cache {
  /** Which adapter this is, for logs and metrics ("memory" | "redis"). */
  readonly kind: string;
  /** The stored value, or `undefined` on a miss (absent or expired). */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Stores `value` under `key`. Returns false when the value was not stored because it is larger
   * than the adapter's `maxValueBytes` (a cache may refuse; callers treat it as a miss later).
   */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<boolean>;
  /**
   * Text stored as it is (no JSON), for values the caller has already encoded: it comes back without
   * a parse. A key is used either through get/set or through getText/setText, not both.
   */
  getText(key: string): Promise<string | undefined>;
  /** Stores text as it is; same TTL and size rules as `set`. */
  setText(key: string, text: string, options?: CacheSetOptions): Promise<boolean>;
  /** Removes one key; true when it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Removes every key that starts with `prefix`; returns how many were removed. Scans the keyspace:
   * for invalidating a group of entries on a hot path, tag them and use `deleteTag`.
   */
  deleteByPrefix(prefix: string): Promise<number>;
  /**
   * Removes every entry stored with `{ tag }` (e.g. all of one user's answers) at a cost that grows
   * with that group, not with the cache; returns how many were removed. An entry re-set under
   * another tag may still go with its old tag too (an extra invalidation, never a missed one).
   */
  deleteTag(tag: string): Promise<number>;
  /**
   * Bounded lists, newest first (a user's recent interactions). For each entry, `values` (given
   * oldest first, JSON like `set`) go to the front of the list under `key`, the list keeps its
   * first `maxLength` and its TTL restarts: each key in one atomic step, all keys in one round
   * trip. Nothing is read back, so the cost grows with what is pushed, not with the list.
   * A key is used either as a list or as a value; pushing onto a value replaces it.
   */
  pushLists(entries: readonly ListPush[], options: ListOptions): Promise<void>;
  /**
   * `pushLists` for values the caller has already encoded as JSON (read back by `getList` like any
   * other): spares an encode per value on a hot path whose values were built as text elsewhere.
   */
  pushListTexts(entries: readonly ListTextPush[], options: ListOptions): Promise<void>;
  /**
   * `pushListTexts` for texts packed as UTF-8 bytes in one buffer (built on another thread and
   * handed over whole): no string per text is made, and the Redis adapter sends the bytes as they
   * are. Same result as `pushListTexts` of the same keys and texts.
   */
  pushPackedListTexts(pushes: PackedListTexts, options: ListOptions): Promise<void>;
  /** The list under `key`, newest first; empty when absent or expired. */
  getList<T = unknown>(key: string): Promise<T[]>;
  /**
   * Sets of strings (e.g. every item a user interacted with): for each entry, `members` join the
   * set under `key` and its TTL restarts; each key in one atomic step, all keys in one round trip.
   * A key is used either as a set or as something else; adding to another kind replaces it.
   */
  addToSets(entries: readonly SetAdd[], options?: SetOptions): Promise<void>;
  /** The members of the set under `key`, in no particular order; empty when absent or expired. */
  getSet(key: string): Promise<string[]>;
  /**
   * A token bucket under `key`, shared by every client of the same store (several api instances on
   * one Redis count against one bucket): `burst` tokens, refilled at `ratePerSecond`. Takes one
   * token when there is one, in one atomic step; otherwise says how long until there is. A bucket
   * left alone refills and then expires. The key space is the adapter's own (not values' keys).
   */
  takeToken(key: string, bucket: TokenBucket): Promise<TokenDecision>;
  /** Releases connections; the cache must not be used afterwards. */
  close(): Promise<void>;
}

export interface CacheSetOptions {
  /** Time to live in milliseconds; without it the adapter's default TTL applies (if any). */
  ttlMs?: number;
  /** A group the entry belongs to, removed together by `deleteTag`. */
  tag?: string;
}

export interface ListPush {
  key: string;
  /** Oldest first: the last one ends up at the head of the list. */
  values: readonly unknown[];
}

export interface ListTextPush {
  key: string;
  /** JSON texts, oldest first, stored as they are. */
  texts: readonly string[];
}

/** Texts of several list pushes packed in one buffer: keys in order, their texts after another. */
export interface PackedListTexts {
  keys: readonly string[];
  /** End (exclusive), in `textEnds`, of each key's texts; a key with none is skipped. */
  keyEnds: Int32Array;
  /** The texts' UTF-8 bytes, one after another, oldest first within a key. */
  bytes: Uint8Array;
  /** End (exclusive), in `bytes`, of each text. */
  textEnds: Int32Array;
}

export interface ListOptions {
  /** Longest the list may grow; older values fall off its end. */
  maxLength: number;
  /** Time to live of the whole list, restarted by every push; else the adapter's default TTL. */
  ttlMs?: number;
}

export interface SetAdd {
  key: string;
  members: readonly string[];
}

export interface SetOptions {
  /** Time to live of the whole set, restarted by every add; else the adapter's default TTL. */
  ttlMs?: number;
}

export interface TokenBucket {
  /** Tokens added per second (> 0). */
  ratePerSecond: number;
  /** Capacity, and what a new bucket starts with (≥ 1). */
  burst: number;
}

export interface TokenDecision {
  allowed: boolean;
  /** When refused: milliseconds until a token is there (≥ 1); 0 when allowed. */
  retryAfterMs: number;
}

export function checkBucket(bucket: TokenBucket): void {
  if (!(bucket.ratePerSecond > 0) || !Number.isFinite(bucket.ratePerSecond))
    throw new RangeError(
      `token bucket ratePerSecond must be a positive number, got ${bucket.ratePerSecond}`,
    );
  if (!(bucket.burst >= 1) || !Number.isFinite(bucket.burst))
    throw new RangeError(`token bucket burst must be at least 1, got ${bucket.burst}`);
}

/** How long an untouched bucket takes to fill up again: after that it may as well not exist. */
export function bucketRefillMs(bucket: TokenBucket): number {
  return Math.ceil((bucket.burst / bucket.ratePerSecond) * 1000) + 1000;
}

/** Checks a set add and returns its members (strings only). */
export function checkSetAdd(entry: SetAdd): readonly string[] {
  checkKey(entry.key);
  if (!Array.isArray(entry.members)) throw new TypeError("set members must be an array");
  for (const member of entry.members)
    if (typeof member !== "string") throw new TypeError("set members must be strings");
  return entry.members;
}

export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** JSON-encodes a value and measures it, once, for every adapter. */
export function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined)
    throw new TypeError("cache values must be JSON-serialisable (got undefined or a function)");
  return json;
}

export function checkText(text: string): void {
  if (typeof text !== "string") throw new TypeError("setText needs a string value");
}

export function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0)
    throw new TypeError("cache key must be a non-empty string");
}

export function checkTag(tag: string | undefined): void {
  if (tag !== undefined && (typeof tag !== "string" || tag.length === 0))
    throw new TypeError("cache tag must be a non-empty string");
}

/** Checks a push and encodes the values that can still be in the list afterwards (the newest `maxLength`). */
export function encodeListPush(entry: ListPush, options: ListOptions): string[] {
  checkKey(entry.key);
  if (!Array.isArray(entry.values)) throw new TypeError("list values must be an array");
  return entry.values.slice(-options.maxLength).map(encodeValue);
}

/** Checks a push of texts and keeps those that can still be in the list afterwards (the newest `maxLength`). */
export function checkListTextPush(entry: ListTextPush, options: ListOptions): readonly string[] {
  checkKey(entry.key);
  if (!Array.isArray(entry.texts)) throw new TypeError("list texts must be an array");
  for (const text of entry.texts) checkText(text);
  return entry.texts.length > options.maxLength
    ? entry.texts.slice(-options.maxLength)
    : entry.texts;
}

/** Checks a packed push: its keys, and ends that stay inside their arrays and never go back. */
export function checkPackedListTexts(pushes: PackedListTexts): void {
  const { keys, keyEnds, bytes, textEnds } = pushes;
  if (!Array.isArray(keys) || !(keyEnds instanceof Int32Array) || keyEnds.length !== keys.length)
    throw new TypeError("packed list texts need as many keyEnds (Int32Array) as keys");
  if (!(bytes instanceof Uint8Array) || !(textEnds instanceof Int32Array))
    throw new TypeError("packed list texts need bytes (Uint8Array) and textEnds (Int32Array)");
  let previous = 0;
  for (let k = 0; k < keys.length; k++) {
    checkKey(keys[k]!);
    const end = keyEnds[k]!;
    if (end < previous || end > textEnds.length)
      throw new RangeError(`packed list texts: keyEnds[${k}] = ${end} is out of order or range`);
    previous = end;
  }
  previous = 0;
  for (let t = 0; t < textEnds.length; t++) {
    const end = textEnds[t]!;
    if (end < previous || end > bytes.length)
      throw new RangeError(`packed list texts: textEnds[${t}] = ${end} is out of order or range`);
    previous = end;
  }
}

/** The texts of a packed push, as strings (adapters that store strings; tests). */
export function unpackListTexts(pushes: PackedListTexts): ListTextPush[] {
  const bytes = Buffer.from(pushes.bytes.buffer, pushes.bytes.byteOffset, pushes.bytes.length);
  const entries: ListTextPush[] = [];
  let row = 0;
  pushes.keys.forEach((key, k) => {
    const texts: string[] = [];
    for (const end = pushes.keyEnds[k]!; row < end; row++)
      texts.push(
        bytes.toString("utf8", row ? pushes.textEnds[row - 1]! : 0, pushes.textEnds[row]!),
      );
    entries.push({ key, texts });
  });
  return entries;
}

export function checkListOptions(options: ListOptions): void {
  if (!(Number.isInteger(options.maxLength) && options.maxLength > 0))
    throw new RangeError(`list maxLength must be a positive integer, got ${options.maxLength}`);
  checkTtl(options.ttlMs);
}

export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isInteger(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`cache ttlMs must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}
