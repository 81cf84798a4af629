import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RecoEvent } from "@reco/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compactSnapshots } from "./compact.ts";
import { eraseUserFromSnapshots, filesWithUser, userSnapshotEvents } from "./erase.ts";
import { coveredOffset, listSnapshotFiles } from "./layout.ts";
import { querySnapshots } from "./reader.ts";
import { toSnapshotRow } from "./rows.ts";
import { writeSnapshot } from "./writer.ts";

const TOPIC = "reco.events.watch";
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "erase-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Offset n is user `u-(n % 7)` watching `i-(n % 11)`. */
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

async function writeRange(first: number, last: number, time: string, partition = 0) {
  const rows = [];
  for (let offset = first; offset <= last; offset++)
    rows.push(toSnapshotRow(event(offset, time), { partition, offset }));
  return writeSnapshot(
    root,
    { topic: TOPIC, partition, firstOffset: BigInt(first), lastOffset: BigInt(last) },
    rows,
  );
}

async function rowsPerUser(): Promise<Record<string, number>> {
  const rows = await querySnapshots<{ user_id: string; n: bigint }>(
    root,
    "SELECT user_id, count(*) AS n FROM {source} GROUP BY user_id",
  );
  return Object.fromEntries(rows.map((row) => [row.user_id, Number(row.n)]));
}

/**
 * Partition 0: offsets 0–9 and 10–13 (hour 10), 14–20 (hour 11); partition 1: offset 0 alone.
 * u-0 is at offsets 0, 7 (first file), 14 (third) and at partition 1's only offset: 4 rows, 3 files.
 */
async function seed(): Promise<void> {
  await writeRange(0, 9, "2026-01-01T10:05:00Z");
  await writeRange(10, 13, "2026-01-01T10:20:00Z");
  await writeRange(14, 20, "2026-01-01T11:05:00Z");
  await writeRange(0, 0, "2026-01-01T10:30:00Z", 1);
}

describe("erasing one user from the snapshots", () => {
  it("rewrites exactly the files holding the user; the other users' rows are untouched", async () => {
    await seed();
    const before = await rowsPerUser();
    // by hand: 21 offsets on partition 0 (u-0: 0, 7, 14) plus partition 1's offset 0 (u-0)
    expect(before["u-0"]).toBe(4);
    expect((await filesWithUser(root, "u-0")).map((file) => file.rows)).toEqual([2, 1, 1]);
    const exported = await userSnapshotEvents(root, "u-0");
    // e-0 is on both partitions (same event id): exported once
    expect(exported.map((row) => row.eventId).sort()).toEqual(["e-0", "e-14", "e-7"]);
    expect(exported.find((row) => row.eventId === "e-14")).toMatchObject({
      topic: TOPIC,
      type: "watch",
      itemId: "i-3",
      event: { userId: "u-0", itemId: "i-3" },
    });

    const report = await eraseUserFromSnapshots(root, "u-0");
    expect(report).toEqual({ files: 3, rows: 4 });
    expect(await filesWithUser(root, "u-0")).toEqual([]);
    expect(await userSnapshotEvents(root, "u-0")).toEqual([]);
    const after = await rowsPerUser();
    const { ["u-0"]: _gone, ...others } = before;
    expect(after).toEqual(others);
    // The file of only u-0 stays, empty, so partition 1's covered offset is kept.
    expect(await listSnapshotFiles(root)).toHaveLength(4);
    expect(await coveredOffset(root, TOPIC, 1)).toBe(0n);
    // A second run finds nothing to do; a compaction afterwards brings nothing back.
    expect(await eraseUserFromSnapshots(root, "u-0")).toEqual({ files: 0, rows: 0 });
    await compactSnapshots(root, { settleMs: 0, now: new Date("2026-01-02T00:00:00Z") });
    expect(await filesWithUser(root, "u-0")).toEqual([]);
    expect(await rowsPerUser()).toEqual(others);
  });

  it("cut short after the first file, every file is readable; run again it finishes", async () => {
    await seed();
    const before = await rowsPerUser();
    await expect(
      eraseUserFromSnapshots(root, "u-0", {
        afterFileRewritten: () => {
          throw new Error("stopped here");
        },
      }),
    ).rejects.toThrow("stopped here");
    // One file rewritten, two still hold the user; the temp file went with the rename.
    expect(await filesWithUser(root, "u-0")).toHaveLength(2);
    const files = await readdir(root, { recursive: true });
    expect(files.filter((name) => name.includes(".tmp-"))).toEqual([]);
    const report = await eraseUserFromSnapshots(root, "u-0");
    expect(report.files).toBe(2);
    expect(await filesWithUser(root, "u-0")).toEqual([]);
    const { ["u-0"]: _gone, ...others } = before;
    expect(await rowsPerUser()).toEqual(others);
  });

  it("a user id with quotes is matched literally, not as SQL", async () => {
    await writeSnapshot(root, { topic: TOPIC, partition: 2, firstOffset: 0n, lastOffset: 1n }, [
      toSnapshotRow(
        { ...event(0, "2026-01-01T10:00:00Z"), userId: "o'brien" },
        { partition: 2, offset: 0 },
      ),
      toSnapshotRow(event(1, "2026-01-01T10:00:00Z"), { partition: 2, offset: 1 }),
    ]);
    expect(await eraseUserFromSnapshots(root, "o'brien")).toEqual({ files: 1, rows: 1 });
    expect(await rowsPerUser()).toEqual({ "u-1": 1 });
  });
});
