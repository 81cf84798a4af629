import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { LocalDirectoryStorage } from "@reco/storage";
import { compactSnapshots } from "./compact.ts";
import { listSnapshotFiles } from "./layout.ts";
import {
  downloadSnapshots,
  removeSnapshotObjects,
  snapshotObjectKey,
  uploadSnapshots,
} from "./objects.ts";
import { querySnapshots } from "./reader.ts";
import { toSnapshotRow } from "./rows.ts";
import { writeSnapshot } from "./writer.ts";

const TOPIC = "reco.events.rate";
function rate(i: number): RateEvent {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `e${i}`,
    eventTime: new Date(Date.UTC(2026, 0, 2, 13, 5, i)).toISOString(),
    userId: `u${i % 3}`,
    type: "rate",
    itemId: `i${i}`,
    rating: 1 + (i % 5),
  };
}
async function write(root: string, first: number, last: number): Promise<string> {
  const rows = [];
  for (let i = first; i <= last; i++)
    rows.push(toSnapshotRow(rate(i), { partition: 0, offset: i }));
  return writeSnapshot(
    root,
    { topic: TOPIC, partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(last) },
    rows,
  );
}
const sha = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "snap-objects-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("snapshot files in object storage", () => {
  it("uploads under snapshots/ with the local layout, once, and downloads the same files back", async () => {
    const root = await mkdtemp(path.join(work, "root-"));
    const bucket = new LocalDirectoryStorage(await mkdtemp(path.join(work, "bucket-")));
    const a = await write(root, 0, 4);
    const b = await write(root, 5, 9);
    expect(snapshotObjectKey(root, a)).toBe(
      `snapshots/topic=${TOPIC}/date=2026-01-02/hour=13/part-0-0-4.parquet`,
    );
    expect(await uploadSnapshots(bucket, root, [a, b])).toHaveLength(2);
    expect(await uploadSnapshots(bucket, root, [a, b])).toEqual([]); // already there
    await bucket.put("snapshots/README.txt", "not a snapshot");

    const copy = await mkdtemp(path.join(work, "copy-"));
    expect(await downloadSnapshots(bucket, copy)).toEqual({ files: 2, fetched: 2 });
    expect(await downloadSnapshots(bucket, copy)).toEqual({ files: 2, fetched: 0 });
    const local = await listSnapshotFiles(root);
    const fetched = await listSnapshotFiles(copy);
    expect(fetched.map((f) => path.relative(copy, f.path))).toEqual(
      local.map((f) => path.relative(root, f.path)),
    );
    for (const [i, f] of fetched.entries())
      expect(await sha(f.path)).toBe(await sha(local[i]!.path));
    const rows = await querySnapshots(copy, "SELECT count(*)::INTEGER AS n FROM {source}");
    expect(rows).toEqual([{ n: 10 }]);
  });

  it("compaction's merged file replaces its parts in the bucket; other files are refused", async () => {
    const root = await mkdtemp(path.join(work, "root-"));
    const bucket = new LocalDirectoryStorage(await mkdtemp(path.join(work, "bucket-")));
    const parts = [await write(root, 0, 2), await write(root, 3, 5), await write(root, 6, 8)];
    await uploadSnapshots(bucket, root, parts);
    const report = await compactSnapshots(root, { now: new Date(Date.UTC(2026, 0, 3)) });
    expect(report.removed).toHaveLength(3);
    await uploadSnapshots(bucket, root, report.written);
    await removeSnapshotObjects(bucket, root, report.removed);
    expect((await bucket.list("snapshots/")).map((o) => o.key)).toEqual([
      `snapshots/topic=${TOPIC}/date=2026-01-02/hour=13/part-0-0-8.parquet`,
    ]);
    const stray = path.join(work, "stray.parquet");
    await writeFile(stray, "x");
    expect(() => snapshotObjectKey(root, stray)).toThrow(/not a snapshot file under/);
  });
});
