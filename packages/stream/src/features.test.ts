/**
 * The real-time features written to a real Redis after batches of events, against values computed
 * here from the same events by a plain replay (no code shared with features.ts).
 */
import { createCache, type Cache } from "@reco/cache";
import { recentItemsKey, trendingKey, type RecentItem, type TrendingScores } from "@reco/contracts";
import { sharedServices } from "@reco/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventSummary } from "./event-summary.ts";
import { featureRows, rowsAfter, rowTexts, updateFeatures } from "./features.ts";

const { redisUrl } = sharedServices();
const KEEP = 7;
const t0 = Date.parse("2026-03-01T12:00:00Z");

let cache: Cache;
beforeAll(async () => {
  cache = await createCache({
    kind: "redis",
    url: redisUrl,
    namespace: `features-test-${process.pid}-${Date.now()}:`,
  });
});
afterAll(async () => {
  await cache.close();
});

/** The forms a valid event time may take; the features store each as `toISOString` gives it. */
function timeText(ms: number, form: number): string {
  const iso = new Date(ms).toISOString();
  switch (form % 5) {
    case 1:
      return iso.replace("Z", "+00:00");
    case 2:
      return iso.replace(/\.\d{3}Z$/, "Z");
    case 3:
      return iso.replace(/^(\d{4})-\d\d-\d\d/, "$1-02-30"); // rolls over to March
    default:
      return iso;
  }
}

/** A deterministic mix: interactions, events that are not interactions, users with 0..20 events. */
function events(seed: number, count: number): EventSummary[] {
  const types: EventSummary["type"][] = ["watch", "rate", "click", "reco.request", "watch"];
  const out: EventSummary[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const type = types[x % types.length]!;
    const user = `u${(x >> 3) % 120}`;
    const summary: EventSummary = {
      type,
      userId: user,
      eventTime: timeText(t0 + seed * 1_000_000 + i * 1000, x >> 5),
    };
    if (type !== "reco.request") summary.itemId = `i${(x >> 9) % 60}`;
    out.push(summary);
  }
  return out;
}

describe("updateFeatures on Redis", () => {
  it("leaves each user's last interactions (newest first, bounded) and every item's count in trending, as replaying the events gives", async () => {
    const batches = [events(1, 900), events(2, 40), events(3, 1500)];
    const options = {
      keyPrefix: "ft",
      recentItemsPerUser: KEEP,
      ttlMs: 60_000,
      // No decay within the test: every score is the item's count of interactions.
      trendingHalfLifeMs: 1e15,
      trendingSize: 1000,
    };
    // The first two as two deliveries of one batch, the third alone.
    await updateFeatures(cache, [featureRows(batches[0]!), featureRows(batches[1]!)], options);
    await updateFeatures(cache, [featureRows(batches[2]!)], options);
    await expectReplayOf("ft", batches.flat());
  });

  it("pushes and counts nothing twice when a delivery is cut after the part already handled", async () => {
    const options = {
      keyPrefix: "fr",
      recentItemsPerUser: KEEP,
      ttlMs: 60_000,
      trendingHalfLifeMs: 1e15,
      trendingSize: 1000,
    };
    const first = events(4, 700);
    const redelivered = events(5, 900);
    // Positions 0–299 of the redelivery were handled already (a file covers them): only 300 on count.
    const rows = rowsAfter(featureRows(redelivered), 299);
    expect(rows.positions.length).toBeLessThan(featureRows(redelivered).positions.length);
    expect(Math.min(...rows.positions)).toBeGreaterThanOrEqual(300);
    await updateFeatures(cache, [featureRows(first), rows], options);
    await expectReplayOf("fr", [...first, ...redelivered.slice(300)]);
    // Nothing after the last position: nothing to push.
    expect(rowTexts(rowsAfter(featureRows(first), 699))).toEqual([]);
  });
});

/** Every user's list and every item's count as a plain replay of `replayed` gives them. */
async function expectReplayOf(prefix: string, replayed: EventSummary[]): Promise<void> {
  const expectedLists = new Map<string, RecentItem[]>();
  const expectedCounts = new Map<string, number>();
  for (const event of replayed) {
    if (event.type === "reco.request" || event.itemId === undefined) continue;
    const list = expectedLists.get(event.userId) ?? [];
    const at = new Date(event.eventTime).toISOString();
    list.unshift({ itemId: event.itemId, type: event.type, at });
    expectedLists.set(event.userId, list.slice(0, KEEP));
    expectedCounts.set(event.itemId, (expectedCounts.get(event.itemId) ?? 0) + 1);
  }
  // The fixture reaches both sides of the bound: lists cut to KEEP and lists shorter than it.
  const lengths = [...expectedLists.values()].map((list) => list.length);
  expect(lengths).toContain(KEEP);
  expect(lengths.some((length) => length < KEEP)).toBe(true);

  for (let user = 0; user < 120; user++) {
    const userId = `u${user}`;
    const stored = await cache.getList<RecentItem>(recentItemsKey(prefix, userId));
    expect(stored, userId).toEqual(expectedLists.get(userId) ?? []);
  }
  const trending = await cache.get<TrendingScores>(trendingKey(prefix));
  expect(Object.keys(trending!.scores).sort()).toEqual([...expectedCounts.keys()].sort());
  for (const [itemId, count] of expectedCounts)
    expect(trending!.scores[itemId], itemId).toBeCloseTo(count, 6);
}
