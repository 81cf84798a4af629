import { describe, expect, it } from "vitest";
import { emptyBatch, trimBatch, type MicroBatch } from "./micro-batch.ts";

function batch(): MicroBatch {
  const payload = (offset: number) =>
    JSON.stringify({ eventId: `e${offset}`, eventTime: `2026-01-05T10:00:0${offset}Z` });
  return {
    ...emptyBatch(),
    records: [3, 4, 6, 7].map((offset) => ({ offset, payload: payload(offset) })),
    dead: [5, 8].map((offset) => ({ offset: String(offset) }) as MicroBatch["dead"][number]),
    firstOffset: 3n,
    lastOffset: 8n,
    firstEventTime: "2026-01-05T10:00:03Z",
  };
}

describe("trimBatch", () => {
  it("keeps a batch that starts above the disk untouched", () => {
    const original = batch();
    expect(trimBatch(original, 2n)).toEqual({ trimmed: original, dropped: 0 });
  });

  it("drops records and dead letters at or below the disk and restarts the range right after it", () => {
    const { trimmed, dropped } = trimBatch(batch(), 5n);
    expect(dropped).toBe(3);
    expect(trimmed.records.map((r) => r.offset)).toEqual([6, 7]);
    expect(trimmed.dead.map((d) => d.offset)).toEqual(["8"]);
    expect([trimmed.firstOffset, trimmed.lastOffset]).toEqual([6n, 8n]);
    expect(trimmed.firstEventTime).toBe("2026-01-05T10:00:06Z");
  });

  it("leaves nothing to write when the disk already covers the whole batch", () => {
    const { trimmed, dropped } = trimBatch(batch(), 9n);
    expect(dropped).toBe(6);
    expect(trimmed.records).toEqual([]);
    expect(trimmed.lastOffset).toBe(9n);
    expect(trimmed.firstEventTime).toBeNull();
  });
});
