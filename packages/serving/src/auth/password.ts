import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** Shorter passwords are refused when set (a slow hash does not save a short password). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer ones are refused too: scrypt over megabytes of input is a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 1024;

/** scrypt cost: N=2^15, r=8, p=1 (~32 MiB, tens of ms), stored with each hash so it can change. */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }) {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Why a password cannot be set, or null when it can. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `password: at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `password: at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}

/** `scrypt$N$r$p$salt$hash` with a fresh 16-byte salt; salt and hash in base64url. */
export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT,
): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Whether `password` matches a stored hash (constant-time compare); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const expected = Buffer.from(parts[5]!, "base64url");
  const key = await derive(password, Buffer.from(parts[4]!, "base64url"), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
