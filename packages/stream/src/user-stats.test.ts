import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SCHEMA_VERSION, type RateEvent } from "@reco/contracts";
import { setDuckIdleCloseMs, toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventSummary } from "./event-summary.ts";
import { FileTimeRanges } from "./file-times.ts";
import { hourRanges, touchedUserHours, type TouchedHours } from "./user-stats.ts";

const at = (iso: string) => Date.parse(iso);
const pairs = (touched: TouchedHours) =>
  [...touched]
    .flatMap(([hour, users]) => [...users].map((user) => `${new Date(hour).toISOString()} ${user}`))
    .sort();

describe("touchedUserHours", () => {
  it("marks a response's hour, and every hour within the attribution window before an interaction", () => {
    const events: EventSummary[] = [
      {
        type: "reco.response",
        userId: "u1",
        eventTime: "2026-01-05T10:59:59.999Z",
        experimentKey: "x",
      },
      // Outside any experiment: changes no per-user statistics.
      { type: "reco.response", userId: "u2", eventTime: "2026-01-05T10:00:00Z", recId: "r" },
      // 11:20 minus a 90-minute window is 09:50: hours 09, 10 and 11.
      { type: "click", userId: "u3", eventTime: "2026-01-05T11:20:00Z", recId: "r1", itemId: "i" },
      // Without a recId an interaction is attributed to nothing.
      { type: "watch", userId: "u4", eventTime: "2026-01-05T11:20:00Z", itemId: "i" },
    ];
    const touched: TouchedHours = new Map();
    touchedUserHours(events, 90 * 60_000, touched);
    expect(pairs(touched)).toEqual([
      "2026-01-05T09:00:00.000Z u3",
      "2026-01-05T10:00:00.000Z u1",
      "2026-01-05T10:00:00.000Z u3",
      "2026-01-05T11:00:00.000Z u3",
    ]);
  });
});

describe("hourRanges", () => {
  it("joins hours at most two apart into ranges of at most six hours and keeps the others apart", () => {
    const h = (hour: number) => at("2026-01-05T00:00:00Z") + hour * 3_600_000;
    expect(hourRanges([h(7), h(3), h(1), h(12), h(4)])).toEqual([
      { from: h(1), to: h(5) },
      { from: h(7), to: h(8) },
      { from: h(12), to: h(13) },
    ]);
    expect(hourRanges([])).toEqual([]);
    // Ten hours in a row: six, then four.
    expect(hourRanges(Array.from({ length: 10 }, (_, i) => h(20 + i)))).toEqual([
      { from: h(20), to: h(26) },
      { from: h(26), to: h(30) },
    ]);
  });
});

describe("FileTimeRanges", () => {
  let root: string;
  const topic = "reco.events.rate";
  const rate = (i: number, eventTime: string): RateEvent => ({
    schemaVersion: SCHEMA_VERSION,
    eventId: `e${i}`,
    eventTime,
    userId: "u",
    type: "rate",
    itemId: "i",
    rating: 3,
  });
  /** One file of the given event times at offsets from `first`; returns its path. */
  const write = (first: number, times: string[]) =>
    writeSnapshot(
      root,
      {
        topic,
        partition: 0,
        firstOffset: BigInt(first),
        lastOffset: BigInt(first + times.length - 1),
      },
      times.map((time, i) =>
        toSnapshotRow(rate(first + i, time), { partition: 0, offset: first + i }),
      ),
    );

  beforeAll(async () => {
    setDuckIdleCloseMs(0);
    root = await mkdtemp(path.join(os.tmpdir(), "file-times-"));
  });
  afterAll(async () => {
    setDuckIdleCloseMs(undefined);
    await rm(root, { recursive: true, force: true });
  });

  it("selects the files holding an event of [from, to), whatever hour directory they sit in", async () => {
    const early = await write(0, ["2026-01-05T09:10:00Z", "2026-01-05T09:50:00Z"]);
    // A batch that spans hours sits in the hour of its first event (09) and holds 12:10.
    const spanning = await write(2, ["2026-01-05T09:55:00Z", "2026-01-05T12:10:00Z"]);
    const late = await write(4, ["2026-01-05T14:00:00Z"]);
    expect(path.basename(path.dirname(spanning))).toBe("hour=09");
    const files = new FileTimeRanges();
    const select = async (from: string, to: number) =>
      (await files.select(root, topic, at(from), to)).map((name) =>
        path.basename(name.slice(1, -1)),
      );
    const name = (file: string) => path.basename(file);
    expect(await select("2026-01-05T12:00:00Z", at("2026-01-05T13:00:00Z"))).toEqual([
      name(spanning),
    ]);
    expect(await select("2026-01-05T09:00:00Z", at("2026-01-05T09:55:00Z"))).toEqual([name(early)]);
    // The last event's instant is inside; `to` is not.
    expect(await select("2026-01-05T09:50:00Z", at("2026-01-05T09:55:00Z"))).toEqual([name(early)]);
    expect(await select("2026-01-05T10:00:00Z", Infinity)).toEqual([name(spanning), name(late)]);
    expect(await select("2026-01-05T15:00:00Z", Infinity)).toEqual([]);
    // A file gone (compacted, expired) is no longer selected; a new one is read when met.
    await rm(early);
    const later = await write(5, ["2026-01-05T09:30:00Z"]);
    expect(await select("2026-01-05T09:00:00Z", at("2026-01-05T10:00:00Z"))).toEqual([
      name(spanning),
      name(later),
    ]);
  });
});
