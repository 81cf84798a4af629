import { createHash } from "node:crypto";
import { Command, Redis } from "ioredis";
import { CacheUnavailable } from "./errors.ts";
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
} from "./port.ts";

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key so several deployments or tests can share one Redis. */
  namespace?: string;
  /** A command that has not answered after this long fails with CacheUnavailable. */
  commandTimeoutMs?: number;
  /** How long `createRedisCache` waits for the first connection before returning a degraded cache. */
  connectTimeoutMs?: number;
  maxValueBytes?: number;
  defaultTtlMs?: number;
  /** Connection errors (the client keeps reconnecting in the background). */
  onError?: (error: Error) => void;
}

const SCAN_COUNT = 1000;

/** Keys per script call: bounds how long one call keeps Redis busy (about a millisecond). */
const LIST_KEYS_PER_CALL = 500;
/** Script calls of one push sent before the first answers (see `pushEncoded`). */
const LIST_CALLS_IN_FLIGHT = 4;

/**
 * List pushes for several keys in one call, each atomic: the values go to the front, the list is
 * trimmed and its TTL restarted; a value left under a key is replaced. One script call per few
 * hundred keys instead of one command per key: Redis and the client each spend a fraction.
 * ARGV: maxLength, ttlMs ("" = none), then per key: its number of values, the values.
 */
const PUSH_LISTS = `
local maxLength = tonumber(ARGV[1])
local ttl = ARGV[2]
local at = 3
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  local pushed = redis.pcall('LPUSH', key, unpack(ARGV, at + 1, at + n))
  if type(pushed) == 'table' and pushed.err then
    redis.call('DEL', key)
    pushed = redis.call('LPUSH', key, unpack(ARGV, at + 1, at + n))
  end
  at = at + n + 1
  if pushed > maxLength then redis.call('LTRIM', key, 0, maxLength - 1) end
  if ttl == '' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttl) end
end
return #KEYS`;

/**
 * PUSH_LISTS for packed texts: the same steps per key, its values taken from one run of texts.
 * ARGV: maxLength, ttlMs ("" = none), each key's number of values, then all values, key after key.
 * Only a key's newest maxLength values are pushed (the rest would be trimmed off anyway), which
 * also keeps `unpack` within Lua's stack however many values a key has.
 */
const PUSH_PACKED_LISTS = `
local maxLength = tonumber(ARGV[1])
local ttl = ARGV[2]
local at = 3 + #KEYS
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[2 + i])
  local first = at
  if n > maxLength then first = at + n - maxLength end
  local pushed = redis.pcall('LPUSH', key, unpack(ARGV, first, at + n - 1))
  if type(pushed) == 'table' and pushed.err then
    redis.call('DEL', key)
    pushed = redis.call('LPUSH', key, unpack(ARGV, first, at + n - 1))
  end
  at = at + n
  if pushed > maxLength then redis.call('LTRIM', key, 0, maxLength - 1) end
  if ttl == '' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttl) end
end
return #KEYS`;
const PUSH_PACKED_LISTS_SHA = createHash("sha1").update(PUSH_PACKED_LISTS).digest("hex");

/**
 * A command whose bytes on the wire are built by the caller (RESP), so a large argument list
 * already in a buffer goes out as one copy instead of a string per argument (ioredis' own script
 * commands override `toWritable` the same way).
 */
class WireCommand extends Command {
  constructor(
    name: string,
    private readonly wire: Buffer,
  ) {
    super(name, []);
  }

  override toWritable(): Buffer {
    return this.wire;
  }
}

/**
 * Sends chunks 0 … count − 1 in order with a few in flight: one at a time, the round trips were
 * most of the wall time of a large push; all at once, a chunk queued behind hundreds of others
 * (milliseconds each in Redis) would outlive its own command timeout. Redis runs them in the order
 * sent. A failed chunk leaves the others running: all settle before this returns or throws, so
 * none rejects later unobserved. A chunk may send nothing (undefined).
 */
async function sendFewAtATime(
  count: number,
  send: (chunk: number) => Promise<unknown> | undefined,
): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  try {
    for (let chunk = 0; chunk < count; chunk++) {
      const sent = send(chunk);
      if (!sent) continue;
      inFlight.push(sent);
      if (inFlight.length >= LIST_CALLS_IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
  }
}

/** RESP header of a bulk string of `length` bytes: "$<length>\r\n". */
function bulkHeader(length: number): string {
  return `$${length}\r\n`;
}

/** A bulk string in RESP. */
function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/**
 * Set adds for several keys in one call, each atomic: SADD, then the TTL restarted; something
 * other than a set under a key is replaced. ARGV: ttlMs ("" = none), then per key: its number of
 * members, the members.
 */
const ADD_TO_SETS = `
local ttl = ARGV[1]
local at = 2
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  local added = redis.pcall('SADD', key, unpack(ARGV, at + 1, at + n))
  if type(added) == 'table' and added.err then
    redis.call('DEL', key)
    redis.call('SADD', key, unpack(ARGV, at + 1, at + n))
  end
  at = at + n + 1
  if ttl == '' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttl) end
end
return #KEYS`;

/**
 * One token bucket, atomic: refilled by the time since its last use (Redis' own clock, so every
 * instance agrees), one token taken if there is one. Returns {allowed 0/1, ms until a token}.
 * ARGV: ratePerSecond, burst, expiry ms.
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.pcall('HMGET', KEYS[1], 'tokens', 'at')
if type(state) == 'table' and state.err then
  redis.call('DEL', KEYS[1])
  state = {false, false}
end
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - last) * rate / 1000)
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {allowed, wait}`;

/** Escapes Redis glob metacharacters so a prefix matches literally in SCAN MATCH. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}

/** A list read as a value or a value read as a list is a miss, as in the in-process adapter. */
const whenWrongType =
  <T>(miss: T) =>
  (error: Error): T => {
    if (error.message.startsWith("WRONGTYPE")) return miss;
    throw error;
  };

/**
 * Redis adapter. Unreachable-Redis policy: FAIL FAST. There is no offline queue and no per-command
 * retry; while the client is not connected every call rejects at once with CacheUnavailable, and a
 * command that gets no answer within `commandTimeoutMs` rejects with CacheUnavailable too. The
 * client reconnects in the background (backoff capped at 1 s), so the cache recovers by itself.
 * Callers that can live without the cache (the serving path) catch CacheUnavailable as a miss.
 */
export class RedisCache implements Cache {
  readonly kind = "redis";
  readonly client: Redis;
  private readonly namespace: string;
  private readonly maxValueBytes: number;
  private readonly defaultTtlMs: number | undefined;

  constructor(options: RedisCacheOptions) {
    checkTtl(options.defaultTtlMs);
    this.namespace = options.namespace ?? "reco:cache:";
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.defaultTtlMs = options.defaultTtlMs;
    this.client = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    this.client.defineCommand("pushLists", { lua: PUSH_LISTS });
    this.client.defineCommand("addToSets", { lua: ADD_TO_SETS });
    this.client.defineCommand("takeToken", { numberOfKeys: 1, lua: TAKE_TOKEN });
    // Without a listener ioredis prints every reconnect failure as an unhandled error.
    this.client.on("error", (error: Error) => options.onError?.(error));
  }

  /** True while connected; calls fail fast with CacheUnavailable otherwise. */
  get connected(): boolean {
    return this.client.status === "ready";
  }

  /** Waits for the connection, at most `timeoutMs`; resolves to whether it is connected. */
  waitUntilConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off("ready", done);
        resolve(this.connected);
      };
      const timer = setTimeout(done, timeoutMs);
      this.client.on("ready", done);
    });
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const json = await this.getText(key);
    if (json === undefined) return undefined;
    try {
      return JSON.parse(json) as T;
    } catch {
      return undefined; // not written by this adapter: a miss, not a crash
    }
  }

  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<boolean> {
    checkKey(key);
    return this.setText(key, encodeValue(value), options);
  }

  async getText(key: string): Promise<string | undefined> {
    checkKey(key);
    const text = await this.run("GET", () =>
      this.client.get(this.namespace + key).catch(whenWrongType(null)),
    );
    return text ?? undefined;
  }

  async setText(key: string, json: string, options: CacheSetOptions = {}): Promise<boolean> {
    checkKey(key);
    checkText(json);
    checkTtl(options.ttlMs);
    checkTag(options.tag);
    const fullKey = this.namespace + key;
    if (Buffer.byteLength(json) + Buffer.byteLength(key) > this.maxValueBytes) {
      await this.run("DEL", () => this.client.del(fullKey)); // a refused overwrite must not leave the old value
      return false;
    }
    const ttl = options.ttlMs ?? this.defaultTtlMs;
    if (options.tag === undefined) {
      await this.run("SET", () =>
        ttl === undefined
          ? this.client.set(fullKey, json)
          : this.client.set(fullKey, json, "PX", ttl),
      );
      return true;
    }
    // The entry and its tag's member set in one transaction. The set lives as long as its newest
    // member; members that expired before it are harmless (UNLINK of a missing key is a no-op).
    const tagKey = this.tagKey(options.tag);
    await this.run("SET+SADD", async () => {
      const multi = this.client.multi();
      if (ttl === undefined) multi.set(fullKey, json);
      else multi.set(fullKey, json, "PX", ttl);
      multi.sadd(tagKey, fullKey);
      if (ttl === undefined) multi.persist(tagKey);
      else multi.pexpire(tagKey, ttl);
      const results = await multi.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
    });
    return true;
  }

  async deleteTag(tag: string): Promise<number> {
    checkTag(tag);
    const tagKey = this.tagKey(tag);
    const members = await this.run("SMEMBERS", () => this.client.smembers(tagKey));
    if (members.length === 0) return 0;
    const [entries] = await this.run("UNLINK", async () => {
      const results = await this.client
        .multi()
        .unlink(...members)
        .unlink(tagKey)
        .exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
      return results.map(([, count]) => Number(count));
    });
    return entries!;
  }

  async pushLists(entries: readonly ListPush[], options: ListOptions): Promise<void> {
    checkListOptions(options);
    await this.pushEncoded(
      entries.map((entry) => ({ key: entry.key, texts: encodeListPush(entry, options) })),
      options,
    );
  }

  async pushListTexts(entries: readonly ListTextPush[], options: ListOptions): Promise<void> {
    checkListOptions(options);
    await this.pushEncoded(
      entries.map((entry) => ({ key: entry.key, texts: checkListTextPush(entry, options) })),
      options,
    );
  }

  private async pushEncoded(pushes: readonly ListTextPush[], options: ListOptions): Promise<void> {
    const ttl = String(options.ttlMs ?? this.defaultTtlMs ?? "");
    const client = this.client as Redis & {
      pushLists(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number>;
    };
    const send = (chunk: ListTextPush[]) => {
      const args: (string | number)[] = chunk.map(({ key }) => this.namespace + key);
      args.push(options.maxLength, ttl);
      for (const { texts } of chunk) args.push(texts.length, ...texts);
      return this.run("pushLists", () => client.pushLists(chunk.length, ...args));
    };
    const nonEmpty = pushes.filter((push) => push.texts.length > 0);
    await sendFewAtATime(Math.ceil(nonEmpty.length / LIST_KEYS_PER_CALL), (chunk) =>
      send(nonEmpty.slice(chunk * LIST_KEYS_PER_CALL, (chunk + 1) * LIST_KEYS_PER_CALL)),
    );
  }

  async pushPackedListTexts(pushes: PackedListTexts, options: ListOptions): Promise<void> {
    checkListOptions(options);
    checkPackedListTexts(pushes);
    const ttl = String(options.ttlMs ?? this.defaultTtlMs ?? "");
    const head = bulk(String(options.maxLength)) + bulk(ttl);
    const { keys, keyEnds, textEnds } = pushes;
    const bytes = Buffer.from(pushes.bytes.buffer, pushes.bytes.byteOffset, pushes.bytes.length);
    // Chunks of keys as in `pushEncoded`, a few in flight.
    const send = (firstKey: number, endKey: number): Promise<unknown> | undefined => {
      let keyPart = "";
      let counts = "";
      let chunkKeys = 0;
      for (let k = firstKey; k < endKey; k++) {
        const count = keyEnds[k]! - (k ? keyEnds[k - 1]! : 0);
        if (count === 0) continue;
        keyPart += bulk(this.namespace + keys[k]!);
        counts += bulk(String(count));
        chunkKeys++;
      }
      if (chunkKeys === 0) return undefined;
      const firstText = firstKey ? keyEnds[firstKey - 1]! : 0;
      const endText = keyEnds[endKey - 1]!;
      const header =
        `*${3 + chunkKeys + 2 + chunkKeys + (endText - firstText)}\r\n` +
        bulk("EVALSHA") +
        bulk(PUSH_PACKED_LISTS_SHA) +
        bulk(String(chunkKeys)) +
        keyPart +
        head +
        counts;
      const wire = Buffer.allocUnsafe(
        Buffer.byteLength(header) +
          (endText > firstText
            ? textEnds[endText - 1]! - (firstText ? textEnds[firstText - 1]! : 0)
            : 0) +
          (endText - firstText) * 16,
      );
      let at = wire.write(header, 0, "utf8");
      for (let t = firstText; t < endText; t++) {
        const start = t ? textEnds[t - 1]! : 0;
        const end = textEnds[t]!;
        at += wire.write(bulkHeader(end - start), at, "latin1");
        at += bytes.copy(wire, at, start, end);
        wire[at++] = 13;
        wire[at++] = 10;
      }
      return this.run("pushPackedLists", () => this.sendScript(wire.subarray(0, at)));
    };
    await sendFewAtATime(Math.ceil(keys.length / LIST_KEYS_PER_CALL), (chunk) =>
      send(chunk * LIST_KEYS_PER_CALL, Math.min(keys.length, (chunk + 1) * LIST_KEYS_PER_CALL)),
    );
  }

  /** Sends a ready EVALSHA of PUSH_PACKED_LISTS; loads the script first if Redis lacks it. */
  private async sendScript(wire: Buffer): Promise<unknown> {
    const call = () => {
      const command = new WireCommand("evalsha", wire);
      void this.client.sendCommand(command);
      return command.promise;
    };
    try {
      return await call();
    } catch (error) {
      if (!(error as Error).message.includes("NOSCRIPT")) throw error;
      await this.client.script("LOAD", PUSH_PACKED_LISTS);
      return call();
    }
  }

  async getList<T = unknown>(key: string): Promise<T[]> {
    checkKey(key);
    const items = await this.run("LRANGE", () =>
      this.client.lrange(this.namespace + key, 0, -1).catch(whenWrongType([])),
    );
    const values: T[] = [];
    for (const item of items) {
      try {
        values.push(JSON.parse(item) as T);
      } catch {
        // not written by this adapter: skipped, not a crash
      }
    }
    return values;
  }

  async addToSets(entries: readonly SetAdd[], options: SetOptions = {}): Promise<void> {
    checkTtl(options.ttlMs);
    const adds = entries
      .map((entry) => ({ key: this.namespace + entry.key, members: checkSetAdd(entry) }))
      .filter((add) => add.members.length > 0);
    if (adds.length === 0) return;
    const ttl = String(options.ttlMs ?? this.defaultTtlMs ?? "");
    const client = this.client as Redis & {
      addToSets(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number>;
    };
    for (let start = 0; start < adds.length; start += LIST_KEYS_PER_CALL) {
      const chunk = adds.slice(start, start + LIST_KEYS_PER_CALL);
      const args: (string | number)[] = chunk.map(({ key }) => key);
      args.push(ttl);
      for (const { members } of chunk) args.push(members.length, ...members);
      await this.run("addToSets", () => client.addToSets(chunk.length, ...args));
    }
  }

  async getSet(key: string): Promise<string[]> {
    checkKey(key);
    return this.run("SMEMBERS", () =>
      this.client.smembers(this.namespace + key).catch(whenWrongType<string[]>([])),
    );
  }

  async takeToken(key: string, bucket: TokenBucket): Promise<TokenDecision> {
    checkKey(key);
    checkBucket(bucket);
    const client = this.client as Redis & {
      takeToken(key: string, ...args: (string | number)[]): Promise<[number, number]>;
    };
    const [allowed, wait] = await this.run("takeToken", () =>
      client.takeToken(
        this.bucketKey(key),
        String(bucket.ratePerSecond),
        String(bucket.burst),
        bucketRefillMs(bucket),
      ),
    );
    return { allowed: allowed === 1, retryAfterMs: allowed === 1 ? 0 : Number(wait) };
  }

  private bucketKey(key: string): string {
    // Apart from the values' keys, as the tags are.
    return `${this.namespace}\u0000bucket:${key}`;
  }

  private tagKey(tag: string): string {
    // "\u0000" cannot start an entry key a caller passes through `set` by accident.
    return `${this.namespace}\u0000tag:${tag}`;
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    return (await this.run("DEL", () => this.client.del(this.namespace + key))) > 0;
  }

  /**
   * SCAN with MATCH over the keyspace, UNLINK per page. Costs O(keys in the Redis db / 1000) round
   * trips, so it suits a cache db of moderate size; it is not atomic with concurrent sets.
   */
  async deleteByPrefix(prefix: string): Promise<number> {
    checkKey(prefix);
    const pattern = `${escapeGlob(this.namespace + prefix)}*`;
    let cursor = "0";
    let removed = 0;
    do {
      const [next, keys] = await this.run("SCAN", () =>
        this.client.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT),
      );
      cursor = next;
      if (keys.length > 0) removed += await this.run("UNLINK", () => this.client.unlink(...keys));
    } while (cursor !== "0");
    return removed;
  }

  async close(): Promise<void> {
    if (this.connected) {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.client.disconnect();
  }

  private async run<T>(command: string, call: () => Promise<T>): Promise<T> {
    if (!this.connected) {
      throw new CacheUnavailable(
        `redis cache unavailable: not connected (status ${this.client.status}) for ${command}`,
      );
    }
    try {
      return await call();
    } catch (error) {
      throw new CacheUnavailable(
        `redis cache unavailable: ${command} failed: ${(error as Error).message}`,
        error,
      );
    }
  }
}

/** Creates the Redis cache and waits (bounded) for its first connection; a down Redis yields a degraded cache. */
export async function createRedisCache(options: RedisCacheOptions): Promise<RedisCache> {
  const cache = new RedisCache(options);
  await cache.waitUntilConnected(options.connectTimeoutMs ?? 1000);
  return cache;
}
