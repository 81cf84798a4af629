import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore, ensureDemoAccounts } from "../src/index.ts";

describe("demo accounts (PGlite)", () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "reco-demo-accounts-"));
    db = await openDatabase({ dataDir: dir });
  });
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("one account per role, passwords saved 0600 and working; a second run keeps them", async () => {
    const store = new AccountStore(db.prisma);
    const file = path.join(dir, "demo-accounts.txt");
    const first = await ensureDemoAccounts(store, file);
    expect(first.map((a) => a.email)).toEqual([
      "viewer@reco.local",
      "pm@reco.local",
      "engineer@reco.local",
      "admin@reco.local",
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, "utf8");
    expect(text.trim().split("\n")).toHaveLength(4);
    for (const account of first) {
      expect(text).toContain(`${account.role} ${account.email} ${account.password}`);
      const session = await store.signIn(account.email, account.password!);
      expect(session?.principal.role).toBe(account.role);
    }
    const second = await ensureDemoAccounts(store, file);
    expect(second).toEqual(first);
    expect(await readFile(file, "utf8")).toBe(text);
    expect(await store.list()).toHaveLength(4);
  });
});
