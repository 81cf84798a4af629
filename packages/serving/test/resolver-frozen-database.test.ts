import { ModelVersionStore, openDatabase, type Database } from "@reco/db";
import { startPrivatePostgres, type PrivatePostgres } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StableModelResolver } from "../src/resolver.ts";

/**
 * The serving version while PostgreSQL hangs: a private server (never the shared one) frozen with
 * SIGSTOP, so connections stay open and queries never answer, as a stalled host does. The
 * resolver's queries go through the real pool and driver.
 */
let postgres: PrivatePostgres;
let db: Database;
const stable = { name: "ials", version: "v-frozen", artifactPath: "/registry/ials/v-frozen" };

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  db = await openDatabase({ databaseUrl: postgres.url });
  await db.prisma.modelVersion.create({
    data: { ...stable, kind: "ials", stage: "stable", checksum: "0".repeat(64) },
  });
}, 120_000);

afterAll(async () => {
  await db?.close();
  await postgres?.dispose();
});

describe("StableModelResolver over a frozen PostgreSQL", () => {
  it("started before the freeze, it answers every request from memory; not started, a request gives up after firstLookupWaitMs", async () => {
    const versions = new ModelVersionStore(db.prisma);
    // refreshMs 0: every request would look the version up again, in the background.
    const started = new StableModelResolver(versions, 0);
    await started.start();
    const notStarted = new StableModelResolver(versions, 0, 500);

    postgres.pause();
    try {
      expect(await db.ping(500), "the database hangs").toBe(false);
      const asked = performance.now();
      for (let i = 0; i < 5; i++) expect((await started.resolve()).ref).toEqual(stable);
      expect(performance.now() - asked).toBeLessThan(200);

      const firstAsked = performance.now();
      await expect(notStarted.resolve()).rejects.toThrow(
        "serving version: no answer from the database in 500 ms",
      );
      expect(performance.now() - firstAsked).toBeLessThan(2_000);
    } finally {
      postgres.resume();
    }
    // Back: the lookups that hung complete, and the unstarted resolver learns the version.
    await expect
      .poll(async () => (await notStarted.resolve()).ref, { timeout: 10_000 })
      .toEqual(stable);
  }, 60_000);
});
