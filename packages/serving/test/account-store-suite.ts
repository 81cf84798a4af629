/**
 * AccountStore against a real database: embedded PGlite, or a scratch database on the PostgreSQL
 * server at DATABASE_URL (dropped afterwards). The clock is injected to walk sessions past their
 * idle and absolute ends.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@reco/db";
import { createScratchDatabase } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccountStore,
  InvalidAccountInput,
  TooManySignInFailures,
  hashPassword,
  verifyPassword,
} from "../src/index.ts";

const HOUR = 3600_000;
// Computed with Python's hashlib.scrypt (N=2^15, r=8, p=1, dklen=32, salt bytes 0..15), not by
// the code under test.
const PYTHON_SCRYPT =
  "scrypt$32768$8$1$AAECAwQFBgcICQoLDA0ODw$xy6UCICz8Vv_P6JqOkkUD4DOmhxN0tXSe6sQAUBxupQ";

async function open(
  kind: "pglite" | "postgres",
): Promise<{ db: Database; close(): Promise<void> }> {
  if (kind === "pglite") {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "reco-accounts-"));
    const db = await openDatabase({ dataDir });
    return {
      db,
      async close() {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    throw new Error(
      'DATABASE_URL is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"` first',
    );
  }
  const scratch = await createScratchDatabase(baseUrl, "reco_accounts");
  const db = await openDatabase({ databaseUrl: scratch.url });
  return {
    db,
    async close() {
      await db.close();
      await scratch.drop();
    },
  };
}

export function runAccountStoreSuite(kind: "pglite" | "postgres"): void {
  describe(`AccountStore on ${kind}`, () => {
    let fixture: Awaited<ReturnType<typeof open>>;
    let clock = Date.parse("2026-12-01T00:00:00Z");
    let store: AccountStore;

    beforeAll(async () => {
      fixture = await open(kind);
      store = new AccountStore(fixture.db.prisma, {
        now: () => clock,
        signInFailures: { perEmail: 3, perAddress: 100, windowMs: 60_000 },
      });
    });
    afterAll(async () => fixture?.close());

    it("verifies a hash computed by Python's scrypt, and refuses a wrong password", async () => {
      expect(await verifyPassword("correct horse battery", PYTHON_SCRYPT)).toBe(true);
      expect(await verifyPassword("correct horse batterz", PYTHON_SCRYPT)).toBe(false);
      expect(await verifyPassword("correct horse battery", "scrypt$bad")).toBe(false);
      const stored = await hashPassword("correct horse battery");
      expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(stored).not.toBe(await hashPassword("correct horse battery")); // fresh salt each time
    });

    it("refuses short passwords, bad emails and the client role, naming the field", async () => {
      await expect(
        store.create({ email: "a@x.test", role: "viewer", password: "short" }),
      ).rejects.toThrow(/^password: at least 12/);
      await expect(
        store.create({ email: "nope", role: "viewer", password: "long enough pw" }),
      ).rejects.toThrow(InvalidAccountInput);
      await expect(
        store.create({ email: "c@x.test", role: "client", password: "long enough pw" }),
      ).rejects.toThrow(/^role:/);
    });

    it("signs in with the right password; the same null for a wrong one and an unknown email", async () => {
      await store.create({ email: "Eve@X.test", role: "pm", password: "eve's password 1" });
      expect(await store.signIn("eve@x.test", "wrong password 1")).toBeNull();
      expect(await store.signIn("nobody@x.test", "eve's password 1")).toBeNull();
      const session = await store.signIn(" EVE@x.test ", "eve's password 1");
      expect(session?.principal).toMatchObject({ role: "pm", email: "eve@x.test" });
      expect(session!.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await store.authenticate(session!.token)).toMatchObject({ role: "pm" });
      expect(await store.authenticate(session!.token + "x")).toBeNull();
    });

    it("stores the session token hashed: the raw token appears nowhere in the table", async () => {
      await store.create({ email: "hash@x.test", role: "viewer", password: "hash password 1" });
      const session = (await store.signIn("hash@x.test", "hash password 1"))!;
      const rows =
        await fixture.db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(
          "SELECT * FROM sessions",
        );
      expect(rows.length).toBeGreaterThan(0);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(session.token);
      const accounts = JSON.stringify(
        await fixture.db.prisma.$queryRawUnsafe("SELECT * FROM accounts"),
      );
      expect(accounts).not.toContain("hash password 1");
    });

    it("a session slides on use, ends after 12 h idle, and ends 7 d after sign-in however used", async () => {
      await store.create({ email: "time@x.test", role: "engineer", password: "time password 1" });
      const start = clock;
      const idle = (await store.signIn("time@x.test", "time password 1"))!;
      clock = start + 11 * HOUR;
      expect(await store.authenticate(idle.token)).not.toBeNull(); // used: slides to 23 h
      clock = start + 22 * HOUR;
      expect(await store.authenticate(idle.token)).not.toBeNull();
      clock = start + 34 * HOUR + 1; // 12 h after its last use
      expect(await store.authenticate(idle.token)).toBeNull();

      clock = start;
      const busy = (await store.signIn("time@x.test", "time password 1"))!;
      for (let h = 10; h < 7 * 24; h += 10) {
        clock = start + h * HOUR;
        expect(await store.authenticate(busy.token)).not.toBeNull();
      }
      clock = start + 7 * 24 * HOUR;
      expect(await store.authenticate(busy.token)).toBeNull();
      clock = start;
    });

    it("signing out and disabling the account end sessions; a disabled account cannot sign in", async () => {
      const account = await store.create({
        email: "gone@x.test",
        role: "admin",
        password: "gone password 1",
      });
      const first = (await store.signIn("gone@x.test", "gone password 1"))!;
      const second = (await store.signIn("gone@x.test", "gone password 1"))!;
      await store.signOut(first.token);
      expect(await store.authenticate(first.token)).toBeNull();
      expect(await store.authenticate(second.token)).not.toBeNull();
      await store.disable(account.id);
      expect(await store.authenticate(second.token)).toBeNull();
      expect(await store.signIn("gone@x.test", "gone password 1")).toBeNull();
      await store.enable(account.id);
      expect(await store.signIn("gone@x.test", "gone password 1")).not.toBeNull();
    });

    it("after 3 failures for an email, even the right password is refused for a while", async () => {
      await store.create({ email: "slow@x.test", role: "viewer", password: "slow password 1" });
      for (let i = 0; i < 3; i += 1) {
        expect(await store.signIn("slow@x.test", `wrong password ${i}`)).toBeNull();
      }
      await expect(store.signIn("slow@x.test", "slow password 1")).rejects.toThrow(
        TooManySignInFailures,
      );
      clock += 61_000;
      expect(await store.signIn("slow@x.test", "slow password 1")).not.toBeNull();
    });
  });
}
