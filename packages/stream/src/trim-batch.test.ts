import { describe, expect, it } from "vitest";
import type { EventSummary } from "./event-summary.ts";
import { featureRows, rowTexts } from "./features.ts";
import { emptyBatch, trimBatch, type MicroBatch } from "./micro-batch.ts";

/** Feature rows of a click by user u{offset % 2} on i{offset} per offset, placed at those offsets. */
function featureRowsAt(offsets: number[]) {
  const rows = featureRows(
    offsets.map((offset) => ({
      type: "click" as const,
      userId: `u${offset % 2}`,
      itemId: `i${offset}`,
      eventTime: "2026-01-05T10:00:00.000Z",
    })),
  );
  rows.positions = rows.positions.map((index) => offsets[index]!);
  return rows;
}

/** trimBatch at its edges: what another member's file covers is never written twice. */
function batch(withEvents: boolean): MicroBatch {
  const payload = (offset: number) =>
    JSON.stringify({ eventId: `e${offset}`, eventTime: `2026-01-05T10:00:0${offset}Z` });
  const offsets = [3, 4, 6, 7];
  return {
    ...emptyBatch(),
    records: offsets.map((offset) => ({ offset, payload: payload(offset) })),
    events: withEvents
      ? offsets.map((offset) => ({ itemId: `i${offset}` }) as unknown as EventSummary)
      : [],
    features: withEvents ? [featureRowsAt(offsets)] : [],
    dead: [5, 8].map((offset) => ({ offset: String(offset) }) as MicroBatch["dead"][number]),
    firstOffset: 3n,
    lastOffset: 8n,
    firstEventTime: "2026-01-05T10:00:03Z",
    openedAt: 1234,
  };
}

describe("trimBatch at its edges", () => {
  it("an empty batch is an empty batch", () => {
    expect(emptyBatch()).toEqual({
      records: [],
      events: [],
      features: [],
      firstEventTime: null,
      dead: [],
      firstOffset: null,
      lastOffset: -1n,
      openedAt: 0,
    });
    const empty = emptyBatch();
    const { trimmed, dropped } = trimBatch(empty, 5n);
    expect(trimmed).toBe(empty);
    expect(dropped).toBe(0);
  });

  it("a batch entirely above the disk is returned as it is, whatever the gap", () => {
    const original = batch(true);
    const { trimmed } = trimBatch(original, 0n);
    expect(trimmed).toBe(original);
    expect(trimmed.firstOffset).toBe(3n);
  });

  it("a disk ending exactly at the first offset drops that record", () => {
    const { trimmed, dropped } = trimBatch(batch(true), 3n);
    expect(dropped).toBe(1);
    expect(trimmed.records.map((r) => r.offset)).toEqual([4, 6, 7]);
    expect(trimmed.firstOffset).toBe(4n);
    expect(trimmed.openedAt).toBe(1234);
  });

  it("keeps the events of the records it keeps, and invents none when there are none", () => {
    const kept = trimBatch(batch(true), 5n).trimmed;
    expect(kept.events).toEqual([{ itemId: "i6" }, { itemId: "i7" }]);
    expect(trimBatch(batch(false), 5n).trimmed.events).toEqual([]);
  });

  it("keeps the feature updates of the offsets it keeps, counts included, and no empty part", () => {
    const [rows] = trimBatch(batch(true), 6n).trimmed.features;
    expect(rows!.users).toEqual(["u1"]);
    expect([...rows!.positions]).toEqual([7]);
    expect(rowTexts(rows!).map((text) => (JSON.parse(text) as { itemId: string }).itemId)).toEqual([
      "i7",
    ]);
    const counts = Object.fromEntries(rows!.items.map((item, i) => [item, rows!.itemCounts[i]]));
    expect(counts).toEqual({ i3: 0, i4: 0, i6: 0, i7: 1 });
    expect(trimBatch(batch(true), 7n).trimmed.features).toEqual([]);
  });

  it("a batch the disk covers entirely keeps an empty range at the disk's end", () => {
    const { trimmed } = trimBatch(batch(false), 9n);
    expect([trimmed.firstOffset, trimmed.lastOffset]).toEqual([9n, 9n]);
  });
});
