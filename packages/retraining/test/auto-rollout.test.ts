import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ModelVersionStore } from "@reco/db";
import { RolloutService } from "@reco/rollouts/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetrainingRuns, RetrainingScheduler } from "../src/index.ts";
import { openTestDatabase, writeSmallSnapshots, type TestDatabase } from "./helpers.ts";

let t: TestDatabase;
let snapshots: string;
let registry: string;

beforeAll(async () => {
  t = await openTestDatabase("pglite");
  snapshots = (await writeSmallSnapshots()).dir;
  registry = await mkdtemp(path.join(os.tmpdir(), "retraining-registry-"));
}, 60_000);
afterAll(async () => {
  await t?.close();
  if (snapshots) await rm(snapshots, { recursive: true, force: true });
  if (registry) await rm(registry, { recursive: true, force: true });
});

describe("RETRAIN_AUTO_ROLLOUT", () => {
  it("starts a canary only when the candidate's metric is at least the stable's; labels continue past the database's", async () => {
    const models = new ModelVersionStore(t.db.prisma);
    // The stable version was recorded from elsewhere: v1 exists in the database, not the registry.
    const stableId = await models.record({
      name: "demo",
      version: "v1",
      kind: "ials",
      artifactPath: "/elsewhere/demo/v1",
      checksum: "0".repeat(64),
      offlineMetrics: { "ndcg@10": 1 },
    });
    await models.setStage({ id: stableId }, "stable", { by: "test", reason: "baseline" });
    const rollouts = new RolloutService(t.db.prisma, models);
    const scheduler = new RetrainingScheduler(
      t.db.prisma,
      {
        snapshotsDir: snapshots,
        registryDir: registry,
        intervalMs: null,
        params: { factors: "8", epochs: "3" },
        autoRollout: true,
      },
      { holder: "auto", rollouts },
    );
    const runs = new RetrainingRuns(t.db.prisma);

    // A perfect stable ndcg@10 (1.0) is above any candidate's: registered, not rolled out.
    await runs.trigger({ by: "test" });
    await scheduler.tick();
    const below = await scheduler.running!;
    expect(below).toMatchObject({ status: "succeeded", version: "v2" });
    expect(below.rolloutId).toBeUndefined();
    expect(await t.db.prisma.rollout.count()).toBe(0);
    const v2 = await models.get("demo", "v2");
    expect(v2.kind).toBe("ials"); // the stable version's kind and name, no kind configured

    // The stable's metric at 0: the next candidate is at least as good and its canary starts.
    await t.db.prisma.modelVersion.update({
      where: { id: stableId },
      data: { offlineMetrics: { "ndcg@10": 0 } },
    });
    await runs.trigger({ by: "test" });
    await scheduler.tick();
    const above = await scheduler.running!;
    expect(above).toMatchObject({ status: "succeeded", version: "v3" });
    expect(above.rolloutId).toBeGreaterThan(0);
    const rollout = await rollouts.get(above.rolloutId!);
    expect(rollout).toMatchObject({
      modelName: "demo",
      status: "pending",
      createdBy: "retraining",
      candidate: { version: "v3" },
      baseline: { version: "v1" },
    });
    await scheduler.stop();
  }, 120_000);
});
