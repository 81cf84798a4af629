import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { describe, expect, it } from "vitest";
import { InteractionHistory } from "./history.ts";
import { SeenItems } from "./seen.ts";

describe("SeenItems", () => {
  it("holds every item of a history far longer than the recent list, loaded or added", () => {
    const seen = new SeenItems();
    const ids = Array.from({ length: 3_000 }, (_, i) => `item-${(i * 7919) % 3_000}`);
    seen.load(new Map([["u", ids.slice(0, 2_000).map((id) => seen.dictionary.intern(id))]]));
    for (const id of ids.slice(2_000)) expect(seen.add("u", id)).toBe(true);
    expect(seen.count("u")).toBe(3_000);
    for (const id of ids) expect(seen.has("u", id)).toBe(true);
    expect(seen.has("u", "item-3000")).toBe(false);
    expect(seen.has("other", ids[0]!)).toBe(false);
    const view = seen.of("u");
    expect(ids.every((id) => view.has(id))).toBe(true);
    expect(view.size).toBe(3_000);
  });

  it("counts an item once however often it is loaded or added", () => {
    const seen = new SeenItems();
    const a = seen.dictionary.intern("a");
    seen.load(new Map([["u", [a, a, a]]]));
    expect(seen.add("u", "a")).toBe(false);
    expect(seen.add("u", "b")).toBe(true);
    expect(seen.add("u", "b")).toBe(false);
    for (let i = 0; i < 100; i += 1) seen.add("u", `c${i % 50}`); // past the unsorted tail's merge
    expect(seen.count("u")).toBe(52);
    expect(seen.interactions).toBe(52);
    expect(seen.userCount).toBe(1);
  });

  it("maps a user's items to a model's indices, skipping the ones it does not know, after new items too", () => {
    const seen = new SeenItems();
    for (const id of ["x", "b", "a"]) seen.add("u", id);
    const itemIndex = new Map([
      ["a", 0],
      ["b", 1],
      ["c", 2],
    ]);
    expect(seen.modelIndices("u", itemIndex).sort()).toEqual([0, 1]);
    seen.add("u", "c"); // interned after the table was built
    expect(seen.modelIndices("u", itemIndex).sort()).toEqual([0, 1, 2]);
    expect(seen.modelIndices("nobody", itemIndex)).toEqual([]);
  });
});

describe("InteractionHistory", () => {
  it("excludes every item of a 2,500-item history while keeping the latest 1,000 in order", () => {
    const history = new InteractionHistory();
    for (let i = 0; i < 2_500; i += 1) history.record("heavy", `m${i}`);
    history.record("heavy", "m5"); // seen again: moves to the end of the recent list
    const recent = history.items("heavy");
    expect(recent).toHaveLength(1_000);
    expect(recent.at(-1)).toBe("m5");
    expect(recent[0]).toBe("m1501");
    const seen = history.seen("heavy");
    for (let i = 0; i < 2_500; i += 1) expect(seen.has(`m${i}`)).toBe(true);
    expect(history.count("heavy")).toBe(2_500);
    const itemIndex = new Map(Array.from({ length: 2_500 }, (_, i) => [`m${i}`, i] as const));
    expect(history.seenIndices("heavy", itemIndex)).toEqual(
      Array.from({ length: 2_500 }, (_, i) => i),
    );
  });
});

describe("InteractionHistory from the snapshots", () => {
  const rate = (userId: string, itemId: string, second: number): RateEvent => ({
    schemaVersion: SCHEMA_VERSION,
    eventId: `${userId}-${itemId}-${second}`,
    eventTime: new Date(Date.UTC(2026, 0, 1, 10, 0, second)).toISOString(),
    userId,
    type: "rate",
    itemId,
    rating: 4,
  });
  const write = (root: string, first: number, events: RateEvent[]) =>
    writeSnapshot(
      root,
      {
        topic: "reco.events.rate",
        partition: 0,
        firstOffset: BigInt(first),
        lastOffset: BigInt(first + events.length - 1),
      },
      events.map((event, i) => toSnapshotRow(event, { partition: 0, offset: first + i })),
    );

  it("loads every interaction at start and catches up with files written since, once each", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "history-"));
    const root = path.join(dir, "snapshots");
    try {
      await write(root, 0, [rate("u", "a", 1), rate("u", "b", 2), rate("v", "a", 3)]);
      const history = await InteractionHistory.fromSnapshots(root);
      expect(history.items("u")).toEqual(["a", "b"]);
      expect(history.count("v")).toBe(1);
      expect(await history.catchUp(root)).toBe(0); // nothing new

      // another instance's feedback reaches the snapshots: a new item, and one u had already
      await write(root, 3, [rate("u", "c", 4), rate("u", "a", 5), rate("w", "z", 6)]);
      expect(await history.catchUp(root)).toBe(2);
      expect(history.items("u")).toEqual(["a", "b", "c"]);
      expect(history.seen("u").has("c")).toBe(true);
      expect(history.seen("w").has("z")).toBe(true);
      expect(await history.catchUp(root)).toBe(0); // each file is read once
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
