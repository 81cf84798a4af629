import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetrainJob, type RetrainJobOptions, type RetrainJobResult } from "@reco/ml";
import { Registry } from "prom-client";
import { RetrainingRuns, RetrainingScheduler, retrainingRunsCounter } from "../src/index.ts";
import { openTestDatabase, writeSmallSnapshots, type TestDatabase } from "./helpers.ts";

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, "../../..");
const SMALL = { factors: "8", epochs: "3" };

let snapshots: string;
let registry: string;

beforeAll(async () => {
  snapshots = (await writeSmallSnapshots()).dir;
  registry = await mkdtemp(path.join(os.tmpdir(), "retraining-registry-"));
});
afterAll(async () => {
  await rm(snapshots, { recursive: true, force: true });
  await rm(registry, { recursive: true, force: true });
});

describe("a retraining run (PGlite)", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
  }, 60_000);
  afterAll(async () => t?.close());

  it("registers a candidate whose recall@10 is the ml CLI's evaluate on the same split", async () => {
    const runs = new RetrainingRuns(t.db.prisma);
    const { run: queued, queued: isNew } = await runs.trigger({ by: "key:test" });
    expect(isNew).toBe(true);
    expect(queued.status).toBe("queued");
    // A second trigger while one is queued returns that one (one at a time).
    const again = await runs.trigger({ by: "key:other" });
    expect(again).toMatchObject({ queued: false, run: { id: queued.id } });

    const phases: string[] = [];
    const metrics = new Registry();
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
        holder: "solo",
        runsCounter: retrainingRunsCounter(metrics),
        job: (o: RetrainJobOptions) =>
          runRetrainJob({
            ...o,
            onProgress: (phase, fraction) => {
              if (phases.at(-1) !== phase) phases.push(phase);
              o.onProgress?.(phase, fraction);
            },
          }),
      },
    );
    const tick = await scheduler.tick();
    expect(tick).toEqual({ leader: true, abandoned: [], started: queued.id });
    const outcome = await scheduler.running!;
    expect(outcome).toMatchObject({ runId: queued.id, status: "succeeded", version: "v1" });
    expect(phases).toEqual(["load", "fit", "evaluate", "refit", "publish"]);
    const exposition = await metrics.metrics();
    expect(exposition).toContain('reco_retraining_runs_total{status="succeeded"} 1\n');
    expect(exposition).toContain('reco_retraining_runs_total{status="failed"} 0\n');

    const view = (await runs.get(queued.id))!;
    expect(view).toMatchObject({
      status: "succeeded",
      phase: "done",
      progress: 1,
      trigger: "manual",
      requestedBy: "key:test",
      kind: "ials",
      modelName: "ials",
      version: { name: "ials", version: "v1", stage: "candidate" },
    });

    const cli = await run(
      "npx",
      [
        "tsx",
        "packages/ml/src/cli/main.ts",
        "evaluate",
        "--snapshots",
        snapshots,
        "--model",
        "ials",
        "--factors",
        "8",
        "--epochs",
        "3",
        "--seed",
        "42",
        "--json",
      ],
      { cwd: repo },
    );
    const reference = JSON.parse(cli.stdout).results[0].evaluation.metrics;
    expect(view.offlineMetrics!["recall@10"]).toBeCloseTo(reference["10"].recall, 12);
    expect(view.offlineMetrics!["ndcg@10"]).toBeCloseTo(reference["10"].ndcg, 12);
    // The model card was written beside the artifact.
    expect(await readdir(path.join(registry, "ials", "v1"))).toContain("MODEL_CARD.md");
    await scheduler.stop();
  }, 120_000);
});

/** One-at-a-time with two schedulers on one database (two processes' worth of state). */
function oneAtATime(kind: "pglite" | "postgres") {
  describe(`two schedulers on one database (${kind})`, () => {
    let t: TestDatabase;
    let registryDir: string;
    beforeAll(async () => {
      t = await openTestDatabase(kind);
      registryDir = await mkdtemp(path.join(os.tmpdir(), "retraining-registry-"));
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      if (registryDir) await rm(registryDir, { recursive: true, force: true });
    });

    it("only the lease holder starts a run, and a new holder does not start a second while the first heartbeats", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const gatedJob = async (o: RetrainJobOptions): Promise<RetrainJobResult> => {
        await gate;
        return runRetrainJob(o);
      };
      const config = {
        snapshotsDir: snapshots,
        registryDir,
        intervalMs: null,
        kind: "ials",
        params: SMALL,
      };
      const a = new RetrainingScheduler(t.db.prisma, config, {
        holder: "a",
        job: gatedJob,
        leaseTtlMs: 30_000,
      });
      const b = new RetrainingScheduler(t.db.prisma, config, {
        holder: "b",
        job: gatedJob,
        leaseTtlMs: 30_000,
      });
      const runs = new RetrainingRuns(t.db.prisma);
      const { run: queued } = await runs.trigger({ by: "key:test" });

      const [ta, tb] = await Promise.all([a.tick(), b.tick()]);
      expect([ta.leader, tb.leader].sort()).toEqual([false, true]);
      const [leader, other] = ta.leader ? [a, b] : [b, a];
      expect((ta.leader ? ta : tb).started).toBe(queued.id);
      expect((ta.leader ? tb : ta).started).toBeNull();

      // The leader gives its lease up mid-run (as if it lapsed); the other takes it over but
      // neither fails the live run nor starts a second one, even with another run queued.
      await leader.lease.release();
      const second = await runs.trigger({ by: "key:again" });
      expect(second).toMatchObject({
        queued: false,
        run: { id: queued.id, status: "running", stale: false },
      });
      const takeover = await other.tick();
      expect(takeover).toEqual({ leader: true, abandoned: [], started: null });
      expect(other.running).toBeNull();
      // The old leader, no longer holding the lease, still heartbeats the run it executes.
      const beat = async () =>
        (await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: queued.id } }))
          .heartbeatAt!;
      const before = await beat();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await leader.tick()).toEqual({ leader: false, abandoned: [], started: null });
      expect((await beat()).getTime()).toBeGreaterThan(before.getTime());

      release();
      const outcome = await leader.running!;
      expect(outcome.status).toBe("succeeded");
      const versions = await t.db.prisma.modelVersion.count();
      expect(versions).toBe(1);
      const running = await t.db.prisma.trainingRun.count({ where: { status: "running" } });
      expect(running).toBe(0);
      await a.stop();
      await b.stop();
    }, 120_000);
  });
}

oneAtATime("pglite");
oneAtATime("postgres");
