import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { coveredOffset, listSnapshotFiles, parseSnapshotPath } from "./layout.ts";
import { querySnapshots } from "./reader.ts";
import { toSnapshotRow } from "./rows.ts";
import { writeSnapshot } from "./writer.ts";

function rate(i: number): RateEvent {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `e${i}`,
    eventTime: new Date(Date.UTC(2026, 0, 2, 13, 5, i)).toISOString(),
    userId: `u${i % 3}`,
    type: "rate",
    itemId: `i${i}`,
    rating: 0.5 + (i % 10) / 2,
    context: i % 2 ? { device: "tv" } : undefined,
  };
}

describe("writeSnapshot", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "snap-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("writes a readable Parquet file named by topic, hour and offset range", async () => {
    const rows = Array.from({ length: 5 }, (_, i) =>
      toSnapshotRow(rate(i), { partition: 2, offset: 10 + i }),
    );
    const file = await writeSnapshot(
      root,
      { topic: "reco.events.rate", partition: 2, firstOffset: 10n, lastOffset: 14n },
      rows,
    );
    expect(path.relative(root, file)).toBe(
      path.join("topic=reco.events.rate", "date=2026-01-02", "hour=13", "part-2-10-14.parquet"),
    );
    const back = await querySnapshots<{
      event_id: string;
      value: number;
      device: string | null;
      offset: bigint;
    }>(root, 'SELECT event_id, value, device, "offset" FROM {source} ORDER BY "offset"');
    expect(back.map((row) => row.event_id)).toEqual(["e0", "e1", "e2", "e3", "e4"]);
    expect(back[1]).toMatchObject({ value: 1, device: "tv" });
    expect(Number(back[4]!.offset)).toBe(14);
    // no temp file left behind
    expect((await readdir(path.dirname(file))).filter((name) => name.startsWith(".tmp"))).toEqual(
      [],
    );
  });

  it("is a no-op when the same range is written again, and reports the covered offset", async () => {
    const rows = [toSnapshotRow(rate(1), { partition: 0, offset: 0 })];
    const range = { topic: "t", partition: 0, firstOffset: 0n, lastOffset: 0n };
    await writeSnapshot(root, range, rows);
    await writeSnapshot(root, range, rows);
    await writeSnapshot(root, { ...range, firstOffset: 1n, lastOffset: 7n }, rows);
    expect(await listSnapshotFiles(root, { topic: "t" })).toHaveLength(2);
    expect(await coveredOffset(root, "t", 0)).toBe(7n);
    expect(await coveredOffset(root, "t", 1)).toBe(-1n);
  });

  it("refuses empty batches and inverted ranges", async () => {
    const range = { topic: "t", partition: 0, firstOffset: 5n, lastOffset: 4n };
    await expect(
      writeSnapshot(root, range, [toSnapshotRow(rate(1), { partition: 0, offset: 5 })]),
    ).rejects.toThrow(/bad range/);
    await expect(writeSnapshot(root, { ...range, lastOffset: 5n }, [])).rejects.toThrow(/empty/);
  });

  it("ignores files that do not follow the naming scheme", () => {
    expect(parseSnapshotPath("/x/topic=t/date=2026-01-01/hour=03/.tmp-1.parquet")).toBeNull();
    expect(
      parseSnapshotPath("/x/topic=t/date=2026-01-01/hour=03/part-1-2-3.parquet"),
    ).toMatchObject({
      topic: "t",
      partition: 1,
      firstOffset: 2n,
      lastOffset: 3n,
    });
  });
});
