import type { PrismaClient } from "@reco/db";
import { timingSafeEqual } from "node:crypto";
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.ts";
import type { Role } from "./roles.ts";
import { withDatabaseTimeout } from "../database-wait.ts";

export interface Principal {
  keyId: number;
  prefix: string;
  name: string;
  role: Role;
}

export interface Authenticator {
  /** The principal a key stands for, or null when it is unknown, malformed or revoked. */
  authenticate(key: string): Promise<Principal | null>;
}

export interface CreatedApiKey extends Principal {
  /** Shown once; only its hash is stored. */
  key: string;
}

interface CachedLookup {
  principal: Principal | null;
  /** The stored sha256, decoded once per lookup rather than per request. */
  hash: Buffer | null;
  /**
   * The key that last matched, held in memory only for this lookup's life: a busy client's key is
   * then checked by a constant-time compare instead of a sha256 per request.
   */
  verified?: Buffer;
  /** The database is asked again from then on. */
  expiresAt: number;
  /** When the database last answered for this prefix: the lookup is last-known-good until + staleMs. */
  confirmedAt: number;
}

export const DEFAULT_AUTH_CACHE_MS = 5_000;
export const DEFAULT_AUTH_STALE_MS = 5 * 60_000;
export const DEFAULT_AUTH_LOOKUP_TIMEOUT_MS = 3_000;
export const DEFAULT_AUTH_MAX_CACHED_KEYS = 10_000;

export interface ApiKeyStoreOptions {
  /**
   * How long a lookup answers without asking the database (default 5 s): a revocation made by
   * another process takes effect here within this time while the database is reachable.
   */
  cacheMs?: number;
  /**
   * While the database is unreachable, a lookup it confirmed within this long still answers
   * (default 5 min; 0 turns it off). Keys never confirmed in that window get an error (503).
   */
  staleMs?: number;
  /**
   * A database lookup gives up after this long (default 3 s): a hung database does not hang
   * requests — a last-known-good lookup answers instead, or the request gets its 503.
   */
  lookupTimeoutMs?: number;
  /**
   * Prefixes whose lookup is held at most (default 10,000; the least recently used go first):
   * requests with made-up keys would otherwise grow the process without bound.
   */
  maxCachedKeys?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Called when a lookup fails and a last-known-good one answers instead. */
  onStale?: (error: Error) => void;
}

/**
 * API keys in the `api_keys` table. Lookups are cached for `cacheMs` (default 5 s) so a busy key
 * costs no database round trip per request; a revocation therefore takes effect within that time
 * on other processes (at once on this one). When the database cannot be reached, a key it
 * confirmed within `staleMs` (default 5 min) keeps its last answer (a known key keeps working, a
 * revoked one stays refused); any other key throws, which the api answers with 503 — never 200.
 * One database lookup per prefix at a time; concurrent requests share it. A key in use is looked
 * up again in the second half of its cache time, in the background, so its requests do not wait.
 */
export class ApiKeyStore implements Authenticator {
  private readonly lookups = new Map<string, CachedLookup>();
  private readonly loading = new Map<string, Promise<CachedLookup>>();
  private readonly lastUsedWritten = new Map<number, number>();
  private readonly cacheMs: number;
  private readonly staleMs: number;
  private readonly lookupTimeoutMs: number;
  private readonly maxCachedKeys: number;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: ApiKeyStoreOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? DEFAULT_AUTH_CACHE_MS;
    this.staleMs = options.staleMs ?? DEFAULT_AUTH_STALE_MS;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? DEFAULT_AUTH_LOOKUP_TIMEOUT_MS;
    this.maxCachedKeys = options.maxCachedKeys ?? DEFAULT_AUTH_MAX_CACHED_KEYS;
    if (!Number.isInteger(this.maxCachedKeys) || this.maxCachedKeys < 1)
      throw new RangeError(`maxCachedKeys must be an integer ≥ 1, got ${this.maxCachedKeys}`);
    this.now = options.now ?? Date.now;
  }

  /** How many prefixes have a lookup held in memory (bounded by `maxCachedKeys`). */
  get cachedKeys(): number {
    return this.lookups.size;
  }

  async create(input: { name: string; role: Role }): Promise<CreatedApiKey> {
    const { key, prefix, hash } = generateApiKey();
    const row = await this.prisma.apiKey.create({
      data: { prefix, hash, name: input.name, role: input.role },
    });
    return { key, keyId: row.id, prefix, name: row.name, role: row.role };
  }

  /** Registers a key chosen elsewhere (the embedded dev key handed to the web app); idempotent. */
  async ensure(key: string, input: { name: string; role: Role }): Promise<Principal> {
    const prefix = apiKeyPrefix(key);
    if (!prefix) throw new Error("malformed API key: expected reco_<12 hex>_<43 base64url chars>");
    const hash = hashApiKey(key);
    const row = await this.prisma.apiKey.upsert({
      where: { prefix },
      create: { prefix, hash, name: input.name, role: input.role },
      update: { hash, role: input.role, revokedAt: null },
    });
    this.lookups.delete(prefix);
    return { keyId: row.id, prefix, name: row.name, role: row.role };
  }

  async revoke(prefix: string): Promise<boolean> {
    const result = await this.prisma.apiKey.updateMany({
      where: { prefix, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    this.lookups.delete(prefix);
    return result.count > 0;
  }

  async list(): Promise<
    Array<Principal & { revoked: boolean; lastUsedAt: Date | null; createdAt: Date }>
  > {
    const rows = await this.prisma.apiKey.findMany({ orderBy: { id: "asc" } });
    return rows.map((row) => ({
      keyId: row.id,
      prefix: row.prefix,
      name: row.name,
      role: row.role,
      revoked: row.revokedAt !== null,
      lastUsedAt: row.lastUsedAt,
      createdAt: row.createdAt,
    }));
  }

  async authenticate(key: string): Promise<Principal | null> {
    const prefix = apiKeyPrefix(key);
    if (!prefix) return null;
    const now = this.now();
    let lookup = this.lookups.get(prefix);
    if (!lookup || lookup.expiresAt <= now) {
      // Expired while its refresh is already running (started ahead, below): the last answer
      // stands for the query's duration instead of holding the request on a slow database.
      const standing =
        lookup && this.loading.has(prefix) && now - lookup.confirmedAt < this.staleMs
          ? lookup
          : undefined;
      lookup = standing ?? (await this.refresh(prefix));
    } else if (lookup.expiresAt - now <= this.cacheMs / 2) {
      // Refresh ahead in the second half of the cache time, off the request path: a busy key is
      // confirmed before it expires, and a hung database costs its requests nothing.
      this.refresh(prefix).catch(() => undefined);
    }
    if (!lookup.principal || !lookup.hash) return null;
    const presented = Buffer.from(key);
    const known =
      lookup.verified?.length === presented.length && timingSafeEqual(lookup.verified, presented);
    if (!known) {
      if (!apiKeyMatches(key, lookup.hash)) return null;
      lookup.verified = presented;
    }
    this.touch(lookup.principal.keyId, this.now());
    return lookup.principal;
  }

  /** The database's answer for a prefix, one query at a time per prefix. */
  private refresh(prefix: string): Promise<CachedLookup> {
    let pending = this.loading.get(prefix);
    if (!pending) {
      pending = this.load(prefix).finally(() => this.loading.delete(prefix));
      this.loading.set(prefix, pending);
    }
    return pending;
  }

  private async load(prefix: string): Promise<CachedLookup> {
    const previous = this.lookups.get(prefix);
    const fallback =
      previous && this.now() - previous.confirmedAt < this.staleMs ? previous : undefined;
    const query = this.prisma.apiKey.findUnique({ where: { prefix } });
    let row: Awaited<typeof query>;
    try {
      row = await withDatabaseTimeout(query, this.lookupTimeoutMs, "API key lookup");
    } catch (error) {
      if (!fallback) throw error; // never confirmed, or too long ago: the caller answers 503
      this.options.onStale?.(error as Error);
      // Last-known-good until the bound; the database is asked again after `cacheMs`, not per request.
      fallback.expiresAt = Math.min(this.now() + this.cacheMs, fallback.confirmedAt + this.staleMs);
      return fallback;
    }
    const now = this.now();
    const lookup: CachedLookup = {
      principal:
        row && !row.revokedAt ? { keyId: row.id, prefix, name: row.name, role: row.role } : null,
      hash: row ? Buffer.from(row.hash, "hex") : null,
      expiresAt: now + this.cacheMs,
      confirmedAt: now,
    };
    // A revocation or an ensure on this process while the query ran wins (they delete the entry).
    if (this.lookups.get(prefix) === previous) {
      // Re-inserted: the Map's order is then least recently confirmed first.
      this.lookups.delete(prefix);
      this.lookups.set(prefix, lookup);
      while (this.lookups.size > this.maxCachedKeys)
        this.lookups.delete(this.lookups.keys().next().value!);
    }
    return lookup;
  }

  /** Records last use at most once a minute per key, off the request path. */
  private touch(keyId: number, now: number): void {
    if ((this.lastUsedWritten.get(keyId) ?? 0) > now - 60_000) return;
    this.lastUsedWritten.set(keyId, now);
    this.prisma.apiKey
      .update({ where: { id: keyId }, data: { lastUsedAt: new Date(now) } })
      .catch(() => {
        this.lastUsedWritten.delete(keyId); // retried on a later request
      });
  }
}
