import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appError,
  byEngineer,
  newVersion,
  openStoreFixture,
  runModelVersionStoreSuite,
  type StoreFixture,
} from "./model-version-store-suite.ts";

// Needs DATABASE_URL (the fixture fails with a clear message without it).
runModelVersionStoreSuite("postgres");

describe("ModelVersionStore.setStage against a concurrent rollout (postgres)", () => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStoreFixture("postgres");
  }, 60_000);
  afterAll(async () => fx?.close());

  it("waits for a rollout being created for the version, then refuses the change", async () => {
    const { store, db } = fx;
    const id = await store.record(newVersion("race"));
    let inserted!: () => void;
    const rolloutInserted = new Promise<void>((resolve) => (inserted = resolve));
    let commit!: () => void;
    const commitNow = new Promise<void>((resolve) => (commit = resolve));
    // another connection creates a rollout of this candidate and has not committed yet
    const creating = db.prisma.$transaction(
      async (tx) => {
        const row = await tx.rollout.create({
          data: { candidateVersionId: id, status: "pending", currentStep: -1 },
        });
        inserted();
        await commitNow;
        return row;
      },
      { timeout: 20_000 },
    );
    await rolloutInserted;
    let settled = false;
    const change = store.setStage({ id }, "stable", byEngineer).finally(() => (settled = true));
    change.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // without the row lock the change would read no rollout and stamp stable right away
    expect(settled).toBe(false);
    commit();
    const rollout = await creating;
    const refused = await appError(change);
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toContain(`rollout ${rollout.id}`);
    expect((await store.byId(id))?.stage).toBe("candidate");
  });
});
