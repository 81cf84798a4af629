import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RecoEvent } from "@reco/contracts";
import { compactSnapshots } from "./compact.ts";
import { coveredOffset, listSnapshotFiles, snapshotDir, snapshotFileName } from "./layout.ts";
import { quarantineDir, readingSnapshots, type QuarantinedSnapshot } from "./quarantine.ts";
import { querySnapshots } from "./reader.ts";
import { toSnapshotRow } from "./rows.ts";
import { writeSnapshot } from "./writer.ts";

const TOPIC = "reco.events.click";
const TIME = "2026-01-05T10:00:00Z";
let root: string;
let moved: QuarantinedSnapshot[];
const options = () => ({ onQuarantine: (q: QuarantinedSnapshot) => void moved.push(q) });

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "quarantine-"));
  moved = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeRange(first: number, last: number): Promise<string> {
  const rows = [];
  for (let offset = first; offset <= last; offset++) {
    const event: RecoEvent = {
      schemaVersion: 1,
      eventId: `e-${offset}`,
      eventTime: TIME,
      userId: "u",
      type: "click",
      itemId: `i-${offset}`,
    };
    rows.push(toSnapshotRow(event, { partition: 0, offset }));
  }
  return writeSnapshot(
    root,
    { topic: TOPIC, partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(last) },
    rows,
  );
}

/** A file named like a snapshot of offsets [first, last] that holds `bytes`. */
async function writeGarbage(first: number, last: number, bytes: string): Promise<string> {
  const file = path.join(
    snapshotDir(root, TOPIC, new Date(TIME)),
    snapshotFileName({
      topic: TOPIC,
      partition: 0,
      firstOffset: BigInt(first),
      lastOffset: BigInt(last),
    }),
  );
  await writeFile(file, bytes);
  return file;
}

const countRows = async () =>
  Number(
    (
      await querySnapshots<{ n: bigint }>(
        root,
        "SELECT count(*) AS n FROM {source}",
        undefined,
        options(),
      )
    )[0]!.n,
  );

describe("unreadable snapshot files", () => {
  it("are moved to the quarantine with the reason, and the query answers from the others", async () => {
    await writeRange(0, 4);
    const garbage = await writeGarbage(5, 9, "not parquet at all");
    await writeRange(10, 12);

    expect(await countRows()).toBe(8);
    expect(moved.map((q) => q.file)).toEqual([garbage]);
    const { movedTo, reason } = moved[0]!;
    expect(movedTo.startsWith(quarantineDir(root) + path.sep)).toBe(true);
    expect(movedTo.endsWith(".parquet.corrupt")).toBe(true);
    expect(reason).toMatch(/part-0-5-9\.parquet/);
    expect(await readFile(movedTo, "utf8")).toBe("not parquet at all");
    expect(await readFile(`${movedTo}.reason.txt`, "utf8")).toContain(garbage);
    expect((await listSnapshotFiles(root)).map((f) => f.lastOffset)).toEqual([4n, 12n]);
    // Asked again: nothing more to move, same answer.
    expect(await countRows()).toBe(8);
    expect(moved).toHaveLength(1);
  });

  it("include a truncated Parquet file; a partition's newest one no longer counts as covered", async () => {
    await writeRange(0, 4);
    const newest = await writeRange(5, 9);
    await truncate(newest, (await stat(newest)).size - 20);
    expect(await coveredOffset(root, TOPIC, 0)).toBe(9n);

    expect(await countRows()).toBe(5);
    expect(moved.map((q) => q.file)).toEqual([newest]);
    // A worker taking the partition now resumes after offset 4 and rewrites 5–9 from the bus.
    expect(await coveredOffset(root, TOPIC, 0)).toBe(4n);
  });

  it("are not blamed for errors of their own query: those are rethrown and nothing moves", async () => {
    await writeRange(0, 4);
    await expect(
      querySnapshots(root, "SELECT no_such_column FROM {source}", undefined, options()),
    ).rejects.toThrow(/no_such_column/);
    const failing = readingSnapshots(
      root,
      () => Promise.reject(new Error("database is down")),
      options(),
    );
    await expect(failing).rejects.toThrow("database is down");
    expect(moved).toEqual([]);
    expect(await listSnapshotFiles(root)).toHaveLength(1);
  });

  it("are quarantined by compaction, which merges the rest of the hour on its next run", async () => {
    await writeRange(0, 4);
    const garbage = await writeGarbage(5, 9, "PAR1 but nothing else");
    await writeRange(10, 12);
    const closed = { settleMs: 0, now: new Date("2026-01-05T12:00:00Z"), ...options() };

    const first = await compactSnapshots(root, closed);
    expect(first.quarantined.map((q) => q.file)).toEqual([garbage]);
    expect(first.written).toEqual([]);
    expect(await listSnapshotFiles(root)).toHaveLength(2);

    const second = await compactSnapshots(root, closed);
    expect(second.written).toHaveLength(1);
    expect(await countRows()).toBe(8);
  });
});
