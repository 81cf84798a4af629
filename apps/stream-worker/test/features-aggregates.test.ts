import path from "node:path";
import { MemoryCache } from "@reco/cache";
import {
  recentItemsKey,
  topicForEvent,
  topicNames,
  trendingKey,
  type RecentItem,
  type RecoEvent,
  type TrendingScores,
} from "@reco/contracts";
import { waitFor } from "@reco/testkit";
import { expect, it } from "vitest";
import { createStreamWorker } from "@reco/stream";
import { allCovered, consumed, embeddedStack, quietLogger } from "./helpers.ts";

// Embedded stack, no mocks: PGlite (the real embedded database), the LRU cache, the file log.
const topics = topicNames("agg");
const stack = embeddedStack("agg-", topics);

let n = 0;
const base = { schemaVersion: 1 as const };
const response = (
  recId: string,
  at: string,
  model: string,
  variant: string,
  latencyMs: number,
  extra = {},
): RecoEvent => ({
  ...base,
  eventId: `e${n++}`,
  eventTime: at,
  userId: `u-${recId}`,
  type: "reco.response",
  recId,
  itemIds: ["i1", "i2"],
  modelVersion: model,
  experimentKey: "exp1",
  variant,
  latencyMs,
  cacheHit: false,
  fallback: false,
  status: 200,
  ...extra,
});
const action = (
  type: "click" | "watch",
  recId: string,
  at: string,
  userId: string,
  itemId: string,
): RecoEvent => ({
  ...base,
  eventId: `e${n++}`,
  eventTime: at,
  userId,
  type,
  itemId,
  recId,
});

const events: RecoEvent[] = [
  response("a1", "2026-01-05T10:00:01Z", "v1", "a", 10),
  response("a2", "2026-01-05T10:00:02Z", "v1", "a", 20, { status: 500 }),
  response("a3", "2026-01-05T10:00:03Z", "v1", "a", 30, { fallback: true }),
  response("a4", "2026-01-05T10:00:04Z", "v1", "a", 40, { cacheHit: true }),
  response("b1", "2026-01-05T10:00:05Z", "v2", "b", 100),
  action("click", "a1", "2026-01-05T10:00:30Z", "u-a1", "i1"),
  action("click", "a2", "2026-01-05T10:01:10Z", "u-a2", "i2"),
  action("watch", "b1", "2026-01-05T10:00:40Z", "u-b1", "i1"),
  // Outside the 1 h attribution window: not counted.
  action("click", "a3", "2026-01-05T11:30:00Z", "u-a3", "i2"),
  {
    ...base,
    eventId: `e${n++}`,
    eventTime: "2026-01-05T10:02:00Z",
    userId: "u-a1",
    type: "watch",
    itemId: "i9",
  },
];

async function aggregateRows() {
  return stack.db.prisma.metricAggregate.findMany({
    orderBy: [{ minute: "asc" }, { versionLabel: "asc" }],
    select: {
      minute: true,
      versionLabel: true,
      experimentKey: true,
      variant: true,
      impressions: true,
      clicks: true,
      watches: true,
      errors: true,
      fallbacks: true,
      cacheHits: true,
      uniqueUsers: true,
      latencyP50Ms: true,
      latencySumMs: true,
      latencyCounts: true,
    },
  });
}

async function userStats() {
  return stack.db.prisma.experimentUserStat.findMany({
    where: { experimentKey: "exp1" },
    orderBy: [{ variant: "asc" }, { userId: "asc" }],
    select: {
      variant: true,
      userId: true,
      exposures: true,
      clicks: true,
      watches: true,
      ratingCount: true,
      firstExposure: true,
    },
  });
}

it("keeps recent items and trending in the cache, and per-minute aggregates and per-user experiment statistics in the database, idempotently", async () => {
  // A response and a click stored twice under their ids (a producer's retry, or a client retrying
  // with the eventIds its 503 named): counted once.
  for (const event of [...events, events[0]!, events[6]!])
    await stack.bus.publish(topicForEvent(topics, event), { key: event.userId, value: event });
  const cache = new MemoryCache({});
  const start = () =>
    createStreamWorker({
      bus: stack.bus,
      topics,
      logger: quietLogger,
      cache,
      prisma: stack.db.prisma,
      config: {
        groupId: "agg",
        snapshotRoot: path.join(stack.dir, "snapshots"),
        batchIntervalMs: 100,
        aggregateIntervalMs: 100,
        attributionWindowMs: 3_600_000,
      },
    });
  const worker = start();
  await worker.start();
  await waitFor(() => allCovered(stack.bus, path.join(stack.dir, "snapshots"), consumed(topics)), {
    timeoutMs: 20_000,
  });
  await worker.stop();

  const recent = await cache.getList<RecentItem>(recentItemsKey("features", "u-a1"));
  expect(recent.map((r) => `${r.type}:${r.itemId}`)).toEqual(["watch:i9", "click:i1"]);
  const trending = await cache.get<TrendingScores>(trendingKey("features"));
  expect(Object.keys(trending?.scores ?? {}).sort()).toEqual(["i1", "i2", "i9"]);
  expect(trending!.scores.i1).toBeGreaterThan(trending!.scores.i9!);

  const rows = await aggregateRows();
  const at = (minute: string, version: string) =>
    rows.find(
      (r) =>
        r.minute.toISOString() === `2026-01-05T${minute}:00.000Z` && r.versionLabel === version,
    );
  expect(at("10:00", "v1")).toMatchObject({
    experimentKey: "exp1",
    variant: "a",
    impressions: 4,
    clicks: 1,
    errors: 1,
    fallbacks: 1,
    cacheHits: 1,
    uniqueUsers: 4,
    latencyP50Ms: 25,
    latencySumMs: 100,
  });
  // Responses per latency bucket (bucket i ends at 2^(i/4) ms): 10 ms in 14 (4·log2 10 = 13.3),
  // 20 in 18 (17.3), 30 in 20 (19.6), 40 in 22 (21.3), 100 in 27 (26.6); trailing zeros left out.
  const counts = (buckets: number[]) => {
    const dense = new Array<number>(Math.max(...buckets) + 1).fill(0);
    for (const b of buckets) dense[b]! += 1;
    return dense;
  };
  expect(at("10:00", "v1")!.latencyCounts).toEqual(counts([14, 18, 20, 22]));
  expect(at("10:01", "v1")).toMatchObject({
    impressions: 0,
    clicks: 1,
    latencyP50Ms: null,
    latencyCounts: [],
  });
  expect(at("10:00", "v2")).toMatchObject({
    variant: "b",
    impressions: 1,
    watches: 1,
    clicks: 0,
    latencyCounts: counts([27]),
  });
  expect(rows.some((r) => r.minute.toISOString().startsWith("2026-01-05T11:30"))).toBe(false);

  const stats = await userStats();
  expect(
    stats.map((r) => `${r.variant}/${r.userId}: ${r.exposures} ${r.clicks} ${r.watches}`),
  ).toEqual(["a/u-a1: 1 1 0", "a/u-a2: 1 1 0", "a/u-a3: 1 0 0", "a/u-a4: 1 0 0", "b/u-b1: 1 0 1"]);
  expect(stats[0]!.firstExposure.toISOString()).toBe("2026-01-05T10:00:01.000Z");

  // A restarted worker recomputes the minutes of recent files (its run may have been lost in a
  // crash): the absolute values land again, nothing is counted twice. The minutes are removed
  // first, as a run lost after its batches were written would have left them.
  await stack.db.prisma.metricAggregate.deleteMany({});
  const again = start();
  await again.start();
  await again.stop();
  expect(await aggregateRows()).toEqual(rows);
  expect(await userStats()).toEqual(stats);
}, 60_000);
