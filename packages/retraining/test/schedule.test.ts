import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runRetrainJob, type RetrainJobOptions } from "@reco/ml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetrainingRuns, RetrainingScheduler } from "../src/index.ts";
import { openTestDatabase, writeSmallSnapshots, type TestDatabase } from "./helpers.ts";

let t: TestDatabase;
let snapshots: string;
let registry: string;
const SMALL = { factors: "8", epochs: "3" };

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

describe("the schedule and a graceful stop", () => {
  it("runs once the interval has passed since the scheduler started, then not again before it passes since that run", async () => {
    // Popularity trained in this process (no thread to boot) takes well under a second, so
    // "before the interval passes since that run" still holds when the next tick asks, even on a
    // loaded machine (iALS in its thread took 13 s there once).
    const intervalMs = 6_000;
    const config = {
      snapshotsDir: snapshots,
      registryDir: registry,
      intervalMs,
      kind: "popularity",
      params: {},
    };
    const scheduler = new RetrainingScheduler(t.db.prisma, config, {
      holder: "clock",
      job: runRetrainJob,
    });
    try {
      expect((await scheduler.tick()).started).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, intervalMs + 100));
      const tick = await scheduler.tick();
      expect(tick.started).not.toBeNull();
      const outcome = await scheduler.running!;
      expect(outcome.status).toBe("succeeded");
      const view = await new RetrainingRuns(t.db.prisma).get(tick.started!);
      expect(view).toMatchObject({ trigger: "schedule", requestedBy: "schedule" });
      // Less than the interval since that run was created: nothing new.
      const createdAt = new Date(view!.createdAt).getTime();
      expect((await scheduler.tick()).started).toBeNull();
      expect(Date.now() - createdAt, "the check above ran inside the interval").toBeLessThan(
        intervalMs,
      );
    } finally {
      await scheduler.stop();
    }
  }, 120_000);

  it("a stop during a run marks it failed and registers nothing, even when the job finishes after", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = new RetrainingScheduler(
      t.db.prisma,
      {
        snapshotsDir: snapshots,
        registryDir: registry,
        intervalMs: null,
        kind: "ials",
        params: SMALL,
      },
      {
        holder: "stopping",
        job: async (o: RetrainJobOptions) => {
          const result = await runRetrainJob(o);
          await gate;
          return result;
        },
      },
    );
    const versionsBefore = await t.db.prisma.modelVersion.count();
    const { run } = await new RetrainingRuns(t.db.prisma).trigger({ by: "test" });
    expect((await scheduler.tick()).started).toBe(run.id);
    const running = scheduler.running!;
    try {
      await scheduler.stop();
    } finally {
      release();
    }
    const outcome = await running;
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/no longer this process's/);
    const row = await new RetrainingRuns(t.db.prisma).get(run.id);
    expect(row).toMatchObject({ status: "failed", version: null });
    expect(row!.error).toBe("stopped: the process running it shut down");
    expect(await t.db.prisma.modelVersion.count()).toBe(versionsBefore);
  }, 120_000);

  it("a job failing in its thread (bad parameter, no events) ends the run failed with the job's message", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "retraining-empty-"));
    const runs = new RetrainingRuns(t.db.prisma);
    const cases = [
      { snapshotsDir: snapshots, params: { factors: "-3" }, error: /factors/ },
      {
        snapshotsDir: empty,
        params: SMALL,
        error: /^no Parquet snapshot files under .*retraining-empty-/,
      },
    ];
    try {
      for (const c of cases) {
        const scheduler = new RetrainingScheduler(
          t.db.prisma,
          {
            snapshotsDir: c.snapshotsDir,
            registryDir: registry,
            intervalMs: null,
            kind: "ials",
            params: c.params,
          },
          { holder: "failing" },
        );
        const { run } = await runs.trigger({ by: "test" });
        expect((await scheduler.tick()).started).toBe(run.id);
        const outcome = await scheduler.running!;
        expect(outcome.status).toBe("failed");
        const row = await runs.get(run.id);
        expect(row).toMatchObject({ status: "failed", phase: "failed", version: null });
        expect(row!.error).toMatch(c.error);
        await scheduler.stop();
      }
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
