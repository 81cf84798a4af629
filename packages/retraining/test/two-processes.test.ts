import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { waitFor } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetrainingRuns } from "../src/index.ts";
import { openTestDatabase, writeSmallSnapshots, type TestDatabase } from "./helpers.ts";

const child = path.join(import.meta.dirname, "fixtures/scheduler-child.ts");

describe("two scheduler processes on one PostgreSQL", () => {
  let t: TestDatabase;
  let snapshots: string;
  let registry: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await openTestDatabase("postgres");
    snapshots = (await writeSmallSnapshots()).dir;
    registry = await mkdtemp(path.join(os.tmpdir(), "retraining-registry-"));
  }, 60_000);
  afterAll(async () => {
    for (const proc of children) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, "exit");
        proc.kill("SIGKILL");
        await exited;
      }
    }
    await t?.close();
    if (snapshots) await rm(snapshots, { recursive: true, force: true });
    if (registry) await rm(registry, { recursive: true, force: true });
  });

  it("runs the queued runs one after the other, never two at once", async () => {
    const outputs: string[] = [];
    for (const holder of ["p1", "p2"]) {
      const proc = spawn(process.execPath, ["--import", "tsx", child], {
        env: {
          ...process.env,
          DATABASE_URL: t.url!,
          SNAPSHOTS: snapshots,
          REGISTRY: registry,
          HOLDER: holder,
          HANG: "0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const index = outputs.push("") - 1;
      proc.stdout!.on("data", (chunk: Buffer) => (outputs[index] += chunk.toString()));
      proc.stderr!.on("data", (chunk: Buffer) => (outputs[index] += chunk.toString()));
      children.push(proc);
    }
    await waitFor(() => outputs.every((o) => o.includes("STARTED")), {
      timeoutMs: 60_000,
      description: () => `both schedulers to start:\n${outputs.join("\n---\n")}`,
    });
    const runs = new RetrainingRuns(t.db.prisma);
    let mostRunning = 0;
    const sampling = setInterval(() => {
      void t.db.prisma.trainingRun
        .count({ where: { status: "running" } })
        .then((n) => (mostRunning = Math.max(mostRunning, n)));
    }, 50);
    try {
      for (let round = 0; round < 2; round++) {
        const { run, queued } = await runs.trigger({ by: `round-${round}` });
        expect(queued).toBe(true);
        await waitFor(
          async () => {
            const now = await runs.get(run.id);
            return now?.status === "succeeded" || now?.status === "failed" ? now : null;
          },
          {
            timeoutMs: 90_000,
            description: () => `run ${run.id} to finish:\n${outputs.join("\n---\n")}`,
          },
        );
      }
    } finally {
      clearInterval(sampling);
    }
    const rows = await t.db.prisma.trainingRun.findMany({ orderBy: { id: "asc" } });
    expect(rows.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    for (const row of rows) expect(["p1", "p2"]).toContain(row.holder);
    expect(rows[1]!.startedAt!.getTime()).toBeGreaterThanOrEqual(rows[0]!.finishedAt!.getTime());
    expect(mostRunning).toBe(1);
    const versions = await t.db.prisma.modelVersion.findMany({ orderBy: { id: "asc" } });
    expect(versions.map((v) => v.version)).toEqual(["v1", "v2"]);
  }, 240_000);
});
