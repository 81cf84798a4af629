import { copyFile, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RecoEvent } from "@reco/contracts";
import {
  compactSnapshots,
  removeExpiredSnapshots,
  removeStaleTempFiles,
  resolveOverlaps,
} from "./compact.ts";
import { listSnapshotFiles } from "./layout.ts";
import { querySnapshots } from "./reader.ts";
import { toSnapshotRow } from "./rows.ts";
import { writeSnapshot } from "./writer.ts";

const TOPIC = "reco.events.watch";
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "compact-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function event(offset: number, time: string): RecoEvent {
  return {
    schemaVersion: 1,
    eventId: `e-${offset}`,
    eventTime: time,
    userId: `u-${offset % 7}`,
    type: "watch",
    itemId: `i-${offset % 11}`,
  };
}

/** Writes offsets [first, last] of partition 0, all at `time`. */
async function writeRange(
  first: number,
  last: number,
  time: string,
  partition = 0,
): Promise<string> {
  const rows = [];
  for (let offset = first; offset <= last; offset++) {
    rows.push(toSnapshotRow(event(offset, time), { partition, offset }));
  }
  return writeSnapshot(
    root,
    { topic: TOPIC, partition, firstOffset: BigInt(first), lastOffset: BigInt(last) },
    rows,
  );
}

async function counts(): Promise<{ rows: number; ids: number }> {
  const [row] = await querySnapshots<{ rows: bigint; ids: bigint }>(
    root,
    "SELECT count(*) AS rows, count(DISTINCT event_id) AS ids FROM {source}",
  );
  return { rows: Number(row?.rows ?? 0), ids: Number(row?.ids ?? 0) };
}

const names = async () =>
  (await listSnapshotFiles(root)).map((f) => `${f.hour}:${f.firstOffset}-${f.lastOffset}`);

describe("compactSnapshots", () => {
  it("merges adjacent files of a closed hour into one file and keeps every record once", async () => {
    await writeRange(0, 9, "2024-05-01T10:05:00Z");
    await writeRange(10, 19, "2024-05-01T10:20:00Z");
    await writeRange(20, 29, "2024-05-01T10:40:00Z");
    await writeRange(30, 39, "2024-05-01T11:01:00Z", 1);

    const report = await compactSnapshots(root, { now: new Date("2024-05-01T13:00:00Z") });

    expect(report.written).toHaveLength(1);
    expect(report.removed).toHaveLength(3);
    expect(await names()).toEqual(["10:0-29", "11:30-39"]);
    expect(await counts()).toEqual({ rows: 40, ids: 40 });
  });

  it("never merges across a file that lives in another hour directory", async () => {
    await writeRange(0, 9, "2024-05-01T10:05:00Z");
    await writeRange(10, 19, "2024-05-01T11:05:00Z");
    await writeRange(20, 29, "2024-05-01T10:59:00Z"); // late events land in hour 10 again
    await writeRange(30, 39, "2024-05-01T10:59:30Z");

    await compactSnapshots(root, { now: new Date("2024-05-01T14:00:00Z") });

    expect(await names()).toEqual(["10:0-9", "11:10-19", "10:20-39"]);
    expect(await counts()).toEqual({ rows: 40, ids: 40 });
  });

  it("leaves the current hour alone until it has settled", async () => {
    await writeRange(0, 9, "2024-05-01T10:05:00Z");
    await writeRange(10, 19, "2024-05-01T10:06:00Z");

    const report = await compactSnapshots(root, { now: new Date("2024-05-01T11:30:00Z") });

    expect(report.written).toEqual([]);
    expect(await names()).toEqual(["10:0-9", "10:10-19"]);
  });
});

describe("resolveOverlaps", () => {
  it("removes the inputs a crashed compaction left beside its merged file", async () => {
    const a = await writeRange(0, 9, "2024-05-01T10:05:00Z");
    const b = await writeRange(10, 19, "2024-05-01T10:06:00Z");
    // Simulate the crash: the merged file is in place, the inputs were never deleted.
    const keep = path.join(root, "keep");
    await copyFile(a, `${keep}-a`);
    await copyFile(b, `${keep}-b`);
    await compactSnapshots(root, { now: new Date("2024-05-01T13:00:00Z") });
    await copyFile(`${keep}-a`, a);
    await copyFile(`${keep}-b`, b);
    expect(await counts()).toEqual({ rows: 40, ids: 20 });

    const report = await resolveOverlaps(root);

    expect(report.removed.sort()).toEqual([a, b].sort());
    expect(report.conflicts).toEqual([]);
    expect(await counts()).toEqual({ rows: 20, ids: 20 });
  });

  it("reports a partial overlap without deleting either file", async () => {
    await writeRange(0, 9, "2024-05-01T10:05:00Z");
    await writeRange(5, 14, "2024-05-01T10:06:00Z");

    const report = await resolveOverlaps(root);

    expect(report.removed).toEqual([]);
    expect(report.conflicts).toHaveLength(1);
    expect(await names()).toEqual(["10:0-9", "10:5-14"]);
  });
});

describe("removeExpiredSnapshots", () => {
  it("deletes hours past retention but keeps each partition's newest file", async () => {
    await writeRange(0, 9, "2024-05-01T08:05:00Z");
    await writeRange(10, 19, "2024-05-01T09:05:00Z");
    await writeRange(20, 29, "2024-05-01T12:05:00Z");
    await writeRange(0, 9, "2024-05-01T08:30:00Z", 1);

    const removed = await removeExpiredSnapshots(root, {
      olderThan: new Date("2024-05-01T11:00:00Z"),
    });

    expect(removed).toHaveLength(2);
    expect(await names()).toEqual(["12:20-29", "08:0-9"]);
  });
});

describe("removeStaleTempFiles", () => {
  it("deletes temp files of killed writers once they are old, and nothing else", async () => {
    const file = await writeRange(0, 9, "2024-05-01T10:05:00Z");
    const dir = path.dirname(file);
    const old = path.join(dir, ".tmp-old.parquet");
    const young = path.join(dir, ".tmp-young.parquet");
    await writeFile(old, "partial");
    await writeFile(young, "partial");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, hourAgo, hourAgo);

    const removed = await removeStaleTempFiles(root, 600_000);

    expect(removed).toEqual([old]);
    expect((await readdir(dir)).sort()).toEqual([".tmp-young.parquet", path.basename(file)].sort());
  });
});
