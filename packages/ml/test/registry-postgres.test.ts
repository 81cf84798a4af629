/**
 * Registry rows and the CLI's train command against the real PostgreSQL (DATABASE_URL), each run in
 * a database of its own that is dropped afterwards.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Database, openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "@reco/testkit";

/** The registry under DATA_DIR: the bucket that `npm test` exports for the S3 suites is not this suite's. */
const localEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("S3_")),
);

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  throw new Error(
    'DATABASE_URL is not set: run through `npm test`, or `eval "$(bash scripts/services.sh env)"` first',
  );
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let scratch: ScratchDatabase;
let url: string;
let db: Database;
let work: string;

function train(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "packages/ml/src/cli/main.ts", "train", ...args],
      {
        cwd: repo,
        env: { ...localEnv, DATABASE_URL: url, DATA_DIR: path.join(work, "data") },
        timeout: 120_000,
      },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
}

beforeAll(async () => {
  scratch = await createScratchDatabase(baseUrl, "reco_ml_pg");
  url = scratch.url;
  db = await openDatabase({ databaseUrl: url });
  work = await mkdtemp(path.join(tmpdir(), "reco-ml-pg-"));
  const rows: string[] = [];
  for (let u = 0; u < 30; u++)
    for (let i = 0; i < 10; i++) rows.push(`u${u},i${(u * 5 + i * 3) % 25},${1 + (i % 5)}`);
  await writeFile(path.join(work, "small.csv"), rows.join("\n") + "\n");
  await writeFile(
    path.join(work, "overflow.csv"),
    "u1,a,3e38\nu1,b,1\nu2,a,1\nu2,c,3e38\nu3,b,1\nu3,c,1\nu3,d,3e38\n",
  );
});
afterAll(async () => {
  await db?.close();
  await scratch?.drop();
  await rm(work, { recursive: true, force: true });
});

// Child processes on a shared 2-core machine: start-up and PGlite migrations can take tens of seconds.
describe("training CLI on PostgreSQL", { timeout: 240_000 }, () => {
  it("a successful run leaves a succeeded run linked to a candidate version", async () => {
    const r = await train([
      "--model",
      "rp3beta",
      "--data",
      path.join(work, "small.csv"),
      "--neighbours",
      "10",
      "--name",
      "pg-rp3",
    ]);
    expect(r.code).toBe(0);
    const version = await db.prisma.modelVersion.findFirstOrThrow({ where: { name: "pg-rp3" } });
    expect(version).toMatchObject({ version: "v1", stage: "candidate", kind: "rp3beta" });
    expect((version.offlineMetrics as Record<string, number>)["ndcg@10"]).toBeGreaterThan(0);
    const run = await db.prisma.trainingRun.findFirstOrThrow({ where: { modelName: "pg-rp3" } });
    expect(run).toMatchObject({ status: "succeeded", modelVersionId: version.id });
    expect(run.log).toContain("published pg-rp3 v1");
    expect(run.params).toMatchObject({ neighbours: 10, split: "random", seed: 42 });
  });

  it("a diverging run is recorded as failed with its error, and no version exists", async () => {
    const r = await train([
      "--model",
      "ials",
      "--data",
      path.join(work, "overflow.csv"),
      "--confidence",
      "rating",
      "--alpha",
      "10",
      "--regularization",
      "0.1",
      "--factors",
      "4",
      "--epochs",
      "3",
      "--split",
      "none",
      "--name",
      "pg-nan",
    ]);
    expect(r.code).toBe(1);
    const run = await db.prisma.trainingRun.findFirstOrThrow({ where: { modelName: "pg-nan" } });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/diverged/);
    expect(run.finishedAt).toBeInstanceOf(Date);
    expect(await db.prisma.modelVersion.count({ where: { name: "pg-nan" } })).toBe(0);
    expect(await readdir(path.join(work, "data", "registry", "pg-nan")).catch(() => [])).toEqual(
      [],
    );
  });
});
