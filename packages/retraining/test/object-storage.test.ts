import { randomUUID } from "node:crypto";
import { access, rm } from "node:fs/promises";
import path from "node:path";
import { fetchVersion, parseStoredVersion } from "@reco/ml";
import { uploadSnapshots } from "@reco/snapshots";
import { createObjectStorage } from "@reco/storage";
import { sharedBucket } from "@reco/testkit";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RetrainingRuns,
  RetrainingScheduler,
  retrainingConfigFromEnv,
  retrainingRunsCounter,
  retrainingEnvFields,
} from "../src/index.ts";
import { z } from "zod";
import { openTestDatabase, writeSmallSnapshots, type TestDatabase } from "./helpers.ts";

/**
 * The scheduler as the apps build it from their environment, with S3_* set (the real S3-compatible
 * server of scripts/services.sh): it trains from the bucket's snapshots and registers a version
 * whose row points at the bucket, with no local registry or snapshot directory involved.
 */
const s3 = { ...sharedBucket(), S3_PREFIX: `test/retraining/${randomUUID()}/` };
const bucket = createObjectStorage(s3, "/unused");

let t: TestDatabase;
let snapshots: string;
beforeAll(async () => {
  t = await openTestDatabase("pglite");
  const small = await writeSmallSnapshots();
  snapshots = small.dir;
  const file = path.join(
    snapshots,
    "topic=reco.events.watch/date=2026-01-01/hour=10/part-0-0-1.parquet",
  );
  await uploadSnapshots(bucket, snapshots, [file]);
}, 60_000);
afterAll(async () => {
  await t?.close();
  for (const object of await bucket.list("")) await bucket.delete(object.key);
  await bucket.close();
  if (snapshots) await rm(snapshots, { recursive: true, force: true });
});

describe("scheduled retraining with object storage (real S3-compatible server)", () => {
  it("trains from the bucket and registers an object: version every api can fetch", async () => {
    const env = z
      .object(retrainingEnvFields)
      .parse({ RETRAIN_INTERVAL: "off", RETRAIN_MODEL: "popularity" });
    const nowhere = path.join(snapshots, "not-created");
    const config = retrainingConfigFromEnv(
      { ...env, ...s3 },
      { snapshotsDir: nowhere, registryDir: nowhere },
    );
    const metrics = new Registry();
    const scheduler = new RetrainingScheduler(t.db.prisma, config, {
      holder: "s3",
      runsCounter: retrainingRunsCounter(metrics),
    });
    const runs = new RetrainingRuns(t.db.prisma);
    const { run } = await runs.trigger({ by: "key:test" });
    expect((await scheduler.tick()).started).toBe(run.id);
    const outcome = await scheduler.running!;
    expect(outcome).toMatchObject({ status: "succeeded", version: "v1" });

    const row = await t.db.prisma.modelVersion.findFirstOrThrow({
      where: { name: "popularity", version: "v1" },
    });
    expect(row.artifactPath).toMatch(/^object:registry\/popularity\/v1#sha256=[0-9a-f]{64}$/);
    const stored = parseStoredVersion(row.artifactPath);
    expect((await bucket.list(stored.prefix)).map((o) => o.key)).toContain(
      `${stored.prefix}model.onnx`,
    );
    // what an api does with the row: fetch, verify against the pinned manifest, serve
    const cache = path.join(snapshots, "model-cache");
    const dir = await fetchVersion(bucket, row.artifactPath, cache);
    await access(path.join(dir, "model.onnx"));
    await expect(access(nowhere)).rejects.toThrow(/ENOENT/);
    expect(await metrics.metrics()).toContain('reco_retraining_runs_total{status="succeeded"} 1\n');
    await scheduler.stop();
  }, 120_000);
});
