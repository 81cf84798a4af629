import type { Cache } from "@reco/cache";
import { recentItemsKey, trendingKey, type RecentItem, type TrendingScores } from "@reco/contracts";
import type { EventSummary } from "./event-summary.ts";

const INTERACTIONS = new Set(["watch", "rate", "click"]);
/**
 * Times that `toISOString` would give back unchanged (UTC, milliseconds, a day every month has, an
 * hour before 24): kept as they are, which spares a Date parse and format per event (about 1 µs).
 * Anything else (offsets, other precisions, days 29–31 that may roll over) goes through Date.
 */
const CANONICAL_TIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

function isoTime(eventTime: string): string {
  return CANONICAL_TIME.test(eventTime) ? eventTime : new Date(eventTime).toISOString();
}

export interface FeatureOptions {
  keyPrefix: string;
  recentItemsPerUser: number;
  ttlMs: number;
  trendingHalfLifeMs: number;
  /** Items kept in the trending table. */
  trendingSize?: number;
}

/**
 * Real-time serving features from freshly written batches: each user's last N interactions
 * (a bounded list in the cache, newest first) and exponentially decayed trending scores per item.
 * A user's events all live in one partition (key = user id), so only one worker updates a user.
 * The trending table is shared: two workers updating it at the same instant may lose one update,
 * which a decaying popularity signal tolerates.
 */
export async function updateFeatures(
  cache: Cache,
  events: readonly EventSummary[],
  options: FeatureOptions,
): Promise<void> {
  const byUser = new Map<string, RecentItem[]>();
  const counts = new Map<string, number>();
  for (const event of events) {
    if (!INTERACTIONS.has(event.type) || event.itemId === undefined) continue;
    const list = byUser.get(event.userId) ?? [];
    list.push({
      itemId: event.itemId,
      type: event.type,
      at: isoTime(event.eventTime),
    });
    byUser.set(event.userId, list);
    counts.set(event.itemId, (counts.get(event.itemId) ?? 0) + 1);
  }
  // Pushed onto bounded lists: nothing is read back, so a batch costs what it adds, however long
  // the users' lists already are (a read-modify-write of each list was most of the worker's CPU).
  const pushes = [...byUser].map(([userId, values]) => ({
    key: recentItemsKey(options.keyPrefix, userId),
    values,
  }));
  await cache.pushLists(pushes, {
    maxLength: options.recentItemsPerUser,
    ttlMs: options.ttlMs,
  });
  if (counts.size) await updateTrending(cache, counts, options);
}

async function updateTrending(
  cache: Cache,
  counts: Map<string, number>,
  options: FeatureOptions,
): Promise<void> {
  const cacheKey = trendingKey(options.keyPrefix);
  const now = Date.now();
  const previous = await cache.get<TrendingScores>(cacheKey);
  const decay = previous
    ? Math.pow(0.5, Math.max(0, now - previous.asOf) / options.trendingHalfLifeMs)
    : 1;
  const scores = new Map<string, number>();
  for (const [itemId, score] of Object.entries(previous?.scores ?? {}))
    scores.set(itemId, score * decay);
  for (const [itemId, count] of counts) scores.set(itemId, (scores.get(itemId) ?? 0) + count);
  const top = [...scores.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, options.trendingSize ?? 500);
  await cache.set(
    cacheKey,
    { asOf: now, scores: Object.fromEntries(top) } satisfies TrendingScores,
    {
      ttlMs: options.ttlMs,
    },
  );
}
