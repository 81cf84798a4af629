import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Database, ModelVersionStore, openDatabase } from "@reco/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomPopularityParams } from "../onnx/random-params.ts";
import { readMetadata } from "./artifact.ts";
import { finishTrainingRun, recordModelVersion, startTrainingRun } from "./db.ts";
import { publishVersion } from "./store.ts";

// Embedded PGlite (a real PostgreSQL build); test/registry-db.test.ts runs the same on the server.
let dir: string;
let db: Database;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "reco-ml-db-"));
  db = await openDatabase({ dataDir: dir });
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("registry rows (PGlite)", () => {
  it("records a running run, then the candidate version and the succeeded run linked to it", async () => {
    const runId = await startTrainingRun(db.prisma, {
      modelName: "pop",
      kind: "popularity",
      params: { k: 1 },
    });
    expect((await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe(
      "running",
    );
    const { dir: artifact, metadata } = await publishVersion({
      registryDir: path.join(dir, "registry"),
      name: "pop",
      algorithm: "popularity",
      params: randomPopularityParams(5, []),
      idMaps: { users: [], items: ["a", "b", "c", "d", "e"] },
      data: { source: "t", from: null, to: null, nUsers: 0, nItems: 5, nInteractions: 9 },
      metrics: { "ndcg@10": 0.5 },
    });
    const versionId = await recordModelVersion(db.prisma, artifact, metadata);
    await finishTrainingRun(db.prisma, runId, {
      status: "succeeded",
      log: "fit ok",
      timings: { fitMs: 3 },
      modelVersionId: versionId,
    });
    const version = await new ModelVersionStore(db.prisma).get("pop", "v1");
    expect(version).toMatchObject({
      id: versionId,
      stage: "candidate",
      kind: "popularity",
      artifactPath: artifact,
    });
    expect(version.checksum).toBe(metadata.files["model.onnx"]!.sha256);
    expect(version.offlineMetrics).toEqual({ "ndcg@10": 0.5 });
    const run = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: "succeeded", log: "fit ok", modelVersionId: versionId });
    expect(run.finishedAt).toBeInstanceOf(Date);
  });

  it("marks a failed run with its error and no version", async () => {
    const runId = await startTrainingRun(db.prisma, {
      modelName: "ials",
      kind: "ials",
      params: {},
    });
    await finishTrainingRun(db.prisma, runId, {
      status: "failed",
      log: "epoch 1",
      error: "diverged",
      timings: {},
    });
    const run = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: "failed", error: "diverged", modelVersionId: null });
  });

  it("refuses a second row for the same name and version", async () => {
    const [first] = await new ModelVersionStore(db.prisma).list({ name: "pop" });
    const { artifactPath } = first!;
    await expect(
      recordModelVersion(db.prisma, artifactPath, await readMetadata(artifactPath)),
    ).rejects.toThrow(/Unique constraint/);
  });
});
