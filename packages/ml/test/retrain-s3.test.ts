import { sharedBucket } from "@reco/testkit";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { toSnapshotRow, uploadSnapshots, writeSnapshot } from "@reco/snapshots";
import { createObjectStorage } from "@reco/storage";
import { fetchVersion, runRetrainJob } from "../src/index.ts";

/** Scheduled retraining against the real S3-compatible server of scripts/services.sh. */
const s3 = {
  ...sharedBucket(),
  S3_PREFIX: `test/retrain/${randomUUID()}/`,
};
const bucket = createObjectStorage(s3, "/unused");
const work = await mkdtemp(path.join(tmpdir(), "retrain-s3-"));
afterAll(async () => {
  for (const object of await bucket.list("")) await bucket.delete(object.key);
  await bucket.close();
  await rm(work, { recursive: true, force: true });
});

describe("retraining with object storage", { timeout: 120_000 }, () => {
  it("reads the bucket's snapshots and uploads the version there, touching no local directory", async () => {
    const events: RateEvent[] = [];
    for (let u = 0; u < 25; u++)
      for (let r = 0; r < 6; r++)
        events.push({
          schemaVersion: SCHEMA_VERSION,
          eventId: `e-${u}-${r}`,
          eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, events.length % 60)).toISOString(),
          userId: `u${u}`,
          type: "rate",
          itemId: `i${(u * 5 + r * 3) % 30}`,
          rating: 4,
        });
    const produced = path.join(work, "produced");
    const file = await writeSnapshot(
      produced,
      {
        topic: "reco.events.rate",
        partition: 0,
        firstOffset: 0n,
        lastOffset: BigInt(events.length - 1),
      },
      events.map((event, offset) => toSnapshotRow(event, { partition: 0, offset })),
    );
    await uploadSnapshots(bucket, produced, [file]);

    const unused = path.join(work, "never-created");
    const result = await runRetrainJob({
      snapshotsDir: unused,
      registryDir: unused,
      name: "pop",
      kind: "popularity",
      objectStorage: s3,
    });
    expect(result.dir).toMatch(/^object:registry\/pop\/v1#sha256=[0-9a-f]{64}$/);
    expect(result.metadata.data.nInteractions).toBe(events.length);
    expect(result.log[0]).toMatch(/^fetched 1 snapshot files from s3:\/\//);
    await expect(readdir(unused)).rejects.toThrow(/ENOENT/);
    const dir = await fetchVersion(bucket, result.dir, path.join(work, "cache"));
    expect((await readdir(dir)).sort()).toEqual(
      ["MODEL_CARD.md", "id-maps.json", "metadata.json", "model.onnx", "train-history.bin"].sort(),
    );
    const second = await runRetrainJob({
      snapshotsDir: unused,
      registryDir: unused,
      name: "pop",
      kind: "popularity",
      objectStorage: s3,
    });
    expect(second.metadata.version).toBe("v2");
  });
});
