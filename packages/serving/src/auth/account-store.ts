import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "@reco/db";
import { hashPassword, passwordProblem, verifyPassword } from "./password.ts";
import type { Principal } from "./key-store.ts";
import { isRole, type Role } from "./roles.ts";

/** Roles a person's account may hold (`client` is for programs' API keys only). */
export const ACCOUNT_ROLES = ["viewer", "pm", "engineer", "admin"] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export const DEFAULT_SESSION_IDLE_MS = 12 * 3600_000;
export const DEFAULT_SESSION_ABSOLUTE_MS = 7 * 24 * 3600_000;
/** Failed sign-ins allowed per email, and per client address, within the window. */
export const DEFAULT_SIGNIN_FAILURES = { perEmail: 5, perAddress: 20, windowMs: 15 * 60_000 };

export interface AccountSummary {
  id: number;
  email: string;
  name: string;
  role: AccountRole;
  disabled: boolean;
  hasPassword: boolean;
  createdAt: Date;
}

/** A session's principal: what the tRPC role checks read, plus the account and its CSRF token. */
export interface SessionPrincipal extends Principal {
  accountId: number;
  email: string;
  /** The browser must echo it in `x-csrf-token` on every state-changing request. */
  csrfToken: string;
}

export interface StartedSession {
  /** The cookie value: 256 random bits, base64url. Only its sha256 is stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
  principal: SessionPrincipal;
}

export class InvalidAccountInput extends Error {}
export class TooManySignInFailures extends Error {}

export interface AccountStoreOptions {
  idleMs?: number;
  absoluteMs?: number;
  signInFailures?: typeof DEFAULT_SIGNIN_FAILURES;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** scrypt cost override (tests may lower it; production keeps the default). */
  hash?: (password: string) => Promise<string>;
}

export const hashSessionToken = (token: string): string =>
  createHash("sha256").update(token).digest("hex");

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * People's accounts (`accounts`) and their browser sessions (`sessions`). Passwords are scrypt
 * hashes; a session's id is the sha256 of its cookie token, so a copy of the table signs nobody
 * in. A session ends after `idleMs` without use (sliding) or `absoluteMs` after sign-in, whichever
 * comes first, at sign-out, or when its account is disabled.
 */
export class AccountStore {
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly limits: typeof DEFAULT_SIGNIN_FAILURES;
  private readonly now: () => number;
  private readonly hash: (password: string) => Promise<string>;
  private readonly failures = new Map<string, number[]>();
  /** Compared against when the email is unknown, so both failures take as long. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    options: AccountStoreOptions = {},
  ) {
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.absoluteMs = options.absoluteMs ?? DEFAULT_SESSION_ABSOLUTE_MS;
    this.limits = options.signInFailures ?? DEFAULT_SIGNIN_FAILURES;
    this.now = options.now ?? Date.now;
    this.hash = options.hash ?? ((password) => hashPassword(password));
  }

  async create(input: {
    email: string;
    name?: string;
    role: Role;
    password?: string;
  }): Promise<AccountSummary> {
    const email = normalizeEmail(input.email);
    const role = accountRole(input.role);
    const passwordHash =
      input.password === undefined ? null : await this.hashChecked(input.password);
    const existing = await this.prisma.account.findUnique({ where: { email } });
    if (existing) throw new InvalidAccountInput(`email: an account ${email} already exists`);
    const row = await this.prisma.account.create({
      data: { email, name: input.name ?? "", role, passwordHash },
    });
    return summary(row);
  }

  /** Creates the account unless its email exists; true when it created it (demo seeding). */
  async ensure(input: { email: string; name?: string; role: Role; password: string }) {
    const email = normalizeEmail(input.email);
    if (await this.prisma.account.findUnique({ where: { email } })) return false;
    await this.create(input);
    return true;
  }

  async list(): Promise<AccountSummary[]> {
    const rows = await this.prisma.account.findMany({ orderBy: { id: "asc" } });
    return rows.map(summary);
  }

  async setPassword(accountId: number, password: string): Promise<void> {
    const passwordHash = await this.hashChecked(password);
    await this.prisma.$transaction([
      this.prisma.account.update({ where: { id: accountId }, data: { passwordHash } }),
      this.prisma.session.deleteMany({ where: { accountId } }),
    ]);
  }

  async setRole(accountId: number, role: Role): Promise<void> {
    await this.prisma.account.update({
      where: { id: accountId },
      data: { role: accountRole(role) },
    });
  }

  /** Disables the account and ends its sessions; `enable` lets it sign in again. */
  async disable(accountId: number): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.account.update({
        where: { id: accountId },
        data: { disabledAt: new Date(this.now()) },
      }),
      this.prisma.session.deleteMany({ where: { accountId } }),
    ]);
  }

  async enable(accountId: number): Promise<void> {
    await this.prisma.account.update({ where: { id: accountId }, data: { disabledAt: null } });
  }

  /**
   * A new session for the email and password, or null: the same null for an unknown email, a wrong
   * password and a disabled account. Throws TooManySignInFailures after too many recent failures
   * for this email or this client address (counted in this process's memory).
   */
  async signIn(
    email: string,
    password: string,
    address = "unknown",
  ): Promise<StartedSession | null> {
    const normalized = normalizeEmail(email, false);
    const keys = [`email:${normalized}`, `address:${address}`];
    const now = this.now();
    if (
      this.recentFailures(keys[0]!, now) >= this.limits.perEmail ||
      this.recentFailures(keys[1]!, now) >= this.limits.perAddress
    ) {
      throw new TooManySignInFailures("too many failed sign-ins: try again in a few minutes");
    }
    const row = await this.prisma.account.findUnique({ where: { email: normalized } });
    this.dummyHash ??= hashPassword("not-a-real-password-only-for-timing");
    const matches = await verifyPassword(password, row?.passwordHash ?? (await this.dummyHash));
    if (!row || !row.passwordHash || !matches || row.disabledAt || !isAccountRole(row.role)) {
      for (const key of keys) this.failures.set(key, [...this.recentList(key, now), now]);
      return null;
    }
    this.failures.delete(keys[0]!);
    const token = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(32).toString("base64url");
    const expiresAt = new Date(now + this.absoluteMs);
    await this.prisma.session.create({
      data: {
        id: hashSessionToken(token),
        accountId: row.id,
        csrfToken,
        createdAt: new Date(now),
        lastSeenAt: new Date(now),
        expiresAt,
      },
    });
    return { token, csrfToken, expiresAt, principal: principalOf(row, csrfToken) };
  }

  /** The session's principal, or null when unknown, idle too long, past its end, or disabled. */
  async authenticate(token: string): Promise<SessionPrincipal | null> {
    if (!token || token.length > 128) return null;
    const id = hashSessionToken(token);
    const session = await this.prisma.session.findUnique({
      where: { id },
      include: { account: true },
    });
    if (!session) return null;
    const now = this.now();
    const expired =
      session.expiresAt.getTime() <= now || session.lastSeenAt.getTime() + this.idleMs <= now;
    if (expired || session.account.disabledAt || !isAccountRole(session.account.role)) {
      if (expired) await this.prisma.session.deleteMany({ where: { id } });
      return null;
    }
    // Sliding idle expiry: written at most once a minute per session.
    if (now - session.lastSeenAt.getTime() > 60_000) {
      await this.prisma.session.updateMany({ where: { id }, data: { lastSeenAt: new Date(now) } });
    }
    return principalOf(session.account, session.csrfToken);
  }

  async signOut(token: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id: hashSessionToken(token) } });
  }

  private async hashChecked(password: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem) throw new InvalidAccountInput(problem);
    return this.hash(password);
  }

  private recentList(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => at > now - this.limits.windowMs);
  }

  private recentFailures(key: string, now: number): number {
    return this.recentList(key, now).length;
  }
}

function normalizeEmail(email: string, check = true): string {
  const normalized = email.trim().toLowerCase();
  if (check && !EMAIL.test(normalized)) {
    throw new InvalidAccountInput(`email: "${email}" is not an email address`);
  }
  return normalized;
}

function isAccountRole(role: string): role is AccountRole {
  return (ACCOUNT_ROLES as readonly string[]).includes(role);
}

function accountRole(role: string): AccountRole {
  if (!isRole(role) || !isAccountRole(role)) {
    throw new InvalidAccountInput(
      `role: expected one of ${ACCOUNT_ROLES.join(", ")}, got "${role}"`,
    );
  }
  return role;
}

function summary(row: {
  id: number;
  email: string;
  name: string;
  role: Role;
  disabledAt: Date | null;
  passwordHash: string | null;
  createdAt: Date;
}): AccountSummary {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: accountRole(row.role),
    disabled: row.disabledAt !== null,
    hasPassword: row.passwordHash !== null,
    createdAt: row.createdAt,
  };
}

function principalOf(
  row: { id: number; email: string; name: string; role: Role },
  csrfToken: string,
): SessionPrincipal {
  return {
    // Not an API key: keyId 0, and the "prefix" names the account (actors read `key:<prefix>`).
    keyId: 0,
    prefix: `account:${row.email}`,
    name: row.name || row.email,
    role: row.role,
    accountId: row.id,
    email: row.email,
    csrfToken,
  };
}
