import { hash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Key format: `reco_<prefix>_<secret>` — prefix 12 hex chars (stored in clear, unique, used to find
 * the row), secret 43 base64url chars (256 bits). Only sha256(key) is stored. sha256 without a
 * slow KDF is sound here because the secret is random, not a password.
 */
const KEY_PATTERN = /^reco_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  /** The full key, to show once. */
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6).toString("hex");
  const key = `reco_${prefix}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return hash("sha256", key, "hex");
}

/** The lookup prefix of a well-formed key, or null (malformed keys never reach the database). */
export function apiKeyPrefix(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Constant-time check of a key against its stored sha256 (hex, or already decoded to bytes). */
export function apiKeyMatches(key: string, storedHash: string | Buffer): boolean {
  const actual = hash("sha256", key, "buffer");
  const expected = typeof storedHash === "string" ? Buffer.from(storedHash, "hex") : storedHash;
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Reads a key from `Authorization: Bearer …` or `X-API-Key: …`; undefined when neither is sent. */
export function apiKeyFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
    return authorization; // a malformed Authorization header is still "a key was sent" → 401, not anonymous
  }
  const xApiKey = headers["x-api-key"];
  return typeof xApiKey === "string" ? xApiKey.trim() : undefined;
}
