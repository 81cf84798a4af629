import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { waitFor } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { RetrainingRuns, RetrainingScheduler, retrainingRunsCounter } from "../src/index.ts";
import {
  openTestDatabase,
  writeSmallSnapshots,
  type DatabaseKind,
  type TestDatabase,
} from "./helpers.ts";

const child = path.join(import.meta.dirname, "fixtures/scheduler-child.ts");

let snapshots: string;
beforeAll(async () => {
  snapshots = (await writeSmallSnapshots()).dir;
});
afterAll(async () => {
  if (snapshots) await rm(snapshots, { recursive: true, force: true });
});

function killedMidway(kind: DatabaseKind) {
  describe(`a run whose process is SIGKILLed before registering (${kind})`, () => {
    let t: TestDatabase | undefined;
    let registry: string;
    beforeAll(async () => {
      registry = await mkdtemp(path.join(os.tmpdir(), "retraining-registry-"));
    });
    afterAll(async () => {
      // The PGlite case reopens the database after the child: close that handle, then drop.
      await t?.db.close().catch(() => undefined);
      await t?.close().catch(() => undefined);
      if (t?.dataDir) await rm(t.dataDir, { recursive: true, force: true });
      if (registry) await rm(registry, { recursive: true, force: true });
    });

    it("leaves no model_versions row, and the next scheduler marks it failed", async () => {
      t = await openTestDatabase(kind);
      const runs = new RetrainingRuns(t.db.prisma);
      const { run: queued } = await runs.trigger({ by: "key:test" });
      // PGlite allows one process per directory: the child owns it while it runs.
      let pgliteDir: string | null = null;
      if (kind === "pglite") {
        pgliteDir = t.dataDir;
        await t.db.close();
      }
      const proc = spawn(process.execPath, ["--import", "tsx", child], {
        env: {
          ...process.env,
          ...(t.url ? { DATABASE_URL: t.url } : { DATABASE_URL: "", PGLITE_DIR: pgliteDir! }),
          SNAPSHOTS: snapshots,
          REGISTRY: registry,
          HOLDER: "doomed",
          LEASE_TTL_MS: "1500",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      proc.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      proc.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      try {
        await waitFor(() => output.includes(`READY ${queued.id}`), {
          timeoutMs: 90_000,
          description: () => `the child to publish the artifact; its output:\n${output}`,
        });
      } finally {
        const exited = once(proc, "exit");
        proc.kill("SIGKILL");
        await exited;
      }
      // The artifact directory was written; the version was not registered.
      expect(await readdir(path.join(registry, "ials"))).toContain("v1");
      if (kind === "pglite") {
        const { openDatabase } = await import("@reco/db");
        const db = await openDatabase({ dataDir: pgliteDir! });
        t = { ...t, db };
      }
      const prisma = t.db.prisma;
      expect(await prisma.modelVersion.count()).toBe(0);
      const during = await prisma.trainingRun.findUniqueOrThrow({ where: { id: queued.id } });
      expect(during.status).toBe("running");

      // Before any scheduler looks, the views already call it stale once its heartbeat is old.
      const views = new RetrainingRuns(prisma, { intervalMs: null, staleAfterMs: 1500 });
      await waitFor(async () => (await views.get(queued.id))?.stale, {
        timeoutMs: 20_000,
        description: "the dead run to look stale",
      });
      const metrics = new Registry();
      const next = new RetrainingScheduler(
        prisma,
        { snapshotsDir: snapshots, registryDir: registry, intervalMs: null },
        { holder: "next", leaseTtlMs: 1500, runsCounter: retrainingRunsCounter(metrics) },
      );
      // Once the dead holder's lease and heartbeat have run out, the next look fails the run.
      let abandoned: number[] = [];
      await waitFor(
        async () => {
          const tick = await next.tick();
          abandoned = tick.abandoned;
          return tick.leader && abandoned.length > 0;
        },
        { timeoutMs: 20_000, description: () => "the next scheduler to take the lease over" },
      );
      expect(abandoned).toEqual([queued.id]);
      const after = await new RetrainingRuns(prisma).get(queued.id);
      expect(after).toMatchObject({ status: "failed", version: null, stale: false });
      expect(after!.error).toMatch(
        /abandoned: the process running it \(doomed\) stopped heartbeating/,
      );
      expect(await prisma.modelVersion.count()).toBe(0);
      expect(next.running).toBeNull();
      // the scheduler that failed it counts it, once, for the "retraining failed" alert
      expect(await metrics.metrics()).toContain('reco_retraining_runs_total{status="failed"} 1\n');
      expect(await metrics.metrics()).toContain(
        'reco_retraining_runs_total{status="succeeded"} 0\n',
      );
      await next.stop();
    }, 150_000);
  });
}

killedMidway("postgres");
killedMidway("pglite");
