import type { PrismaClient } from "@reco/db";
import { timingSafeEqual } from "node:crypto";
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from "./api-key.ts";
import type { Role } from "./roles.ts";

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
  expiresAt: number;
}

/**
 * API keys in the `api_keys` table. Lookups are cached for `cacheMs` (default 5 s) so a busy key
 * costs no database round trip per request; a revocation therefore takes effect within that time
 * on other processes (at once on this one).
 */
export class ApiKeyStore implements Authenticator {
  private readonly lookups = new Map<string, CachedLookup>();
  private readonly lastUsedWritten = new Map<number, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly cacheMs = 5_000,
  ) {}

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
    const now = Date.now();
    let lookup = this.lookups.get(prefix);
    if (!lookup || lookup.expiresAt <= now) {
      const row = await this.prisma.apiKey.findUnique({ where: { prefix } });
      lookup = {
        principal:
          row && !row.revokedAt ? { keyId: row.id, prefix, name: row.name, role: row.role } : null,
        hash: row ? Buffer.from(row.hash, "hex") : null,
        expiresAt: now + this.cacheMs,
      };
      this.lookups.set(prefix, lookup);
    }
    if (!lookup.principal || !lookup.hash) return null;
    const presented = Buffer.from(key);
    const known =
      lookup.verified?.length === presented.length && timingSafeEqual(lookup.verified, presented);
    if (!known) {
      if (!apiKeyMatches(key, lookup.hash)) return null;
      lookup.verified = presented;
    }
    this.touch(lookup.principal.keyId, now);
    return lookup.principal;
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
