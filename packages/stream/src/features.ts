import type { Cache, ListTextPush } from "@reco/cache";
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

/**
 * The feature updates of one delivery, made ready where its messages are decoded (the validation
 * thread): each user's recent items already encoded for the cache, and the items' counts. A few
 * strings and typed arrays cross to the main thread instead of an object per event, and the main
 * thread only hands them to the cache.
 */
export interface FeatureRows {
  /** Each user with interactions, in the order of their first one. */
  users: string[];
  /** End (exclusive) in `texts` of each user's recent items. */
  ends: Int32Array;
  /** Encoded RecentItems, grouped by user, oldest first within a user. */
  texts: string[];
  /**
   * Per text, where its message is: its index in the delivery as built, its offset once appended
   * to a batch (so redelivered or already written messages can be dropped: `rowsAfter`).
   */
  positions: Float64Array;
  /** Per text, the index of its item in `items`. */
  itemOf: Int32Array;
  /** The items interacted with, and how often (trending). */
  items: string[];
  itemCounts: Int32Array;
}

/** What the features read of an event (an EventSummary, or a decoded event with its item). */
export type FeatureSource = Pick<EventSummary, "type" | "userId" | "eventTime" | "itemId">;

/** Collects the feature updates of a delivery's valid events (see FeatureRows). */
export class FeatureRowsBuilder {
  private readonly byUser = new Map<string, number[]>();
  private readonly texts: string[] = [];
  private readonly positions: number[] = [];
  private readonly itemOf: number[] = [];
  private readonly itemIndex = new Map<string, number>();
  private readonly items: string[] = [];
  private readonly itemCounts: number[] = [];

  /** Adds the event at `position` in the delivery; events other than interactions add nothing. */
  add(position: number, event: FeatureSource): void {
    if (!INTERACTIONS.has(event.type) || event.itemId === undefined) return;
    const item: RecentItem = {
      itemId: event.itemId,
      type: event.type,
      at: isoTime(event.eventTime),
    };
    const row = this.texts.length;
    this.texts.push(JSON.stringify(item));
    this.positions.push(position);
    let itemAt = this.itemIndex.get(event.itemId);
    if (itemAt === undefined) {
      itemAt = this.items.length;
      this.itemIndex.set(event.itemId, itemAt);
      this.items.push(event.itemId);
      this.itemCounts.push(0);
    }
    this.itemOf.push(itemAt);
    this.itemCounts[itemAt]!++;
    const rows = this.byUser.get(event.userId);
    if (rows) rows.push(row);
    else this.byUser.set(event.userId, [row]);
  }

  build(): FeatureRows {
    const count = this.texts.length;
    const texts = new Array<string>(count);
    const positions = new Float64Array(count);
    const itemOf = new Int32Array(count);
    const ends = new Int32Array(this.byUser.size);
    let at = 0;
    let user = 0;
    for (const rows of this.byUser.values()) {
      for (const row of rows) {
        texts[at] = this.texts[row]!;
        positions[at] = this.positions[row]!;
        itemOf[at] = this.itemOf[row]!;
        at++;
      }
      ends[user++] = at;
    }
    return {
      users: [...this.byUser.keys()],
      ends,
      texts,
      positions,
      itemOf,
      items: this.items,
      itemCounts: Int32Array.from(this.itemCounts),
    };
  }
}

/** Feature rows of the given events, positions being their indexes (tests, inline use). */
export function featureRows(events: readonly EventSummary[]): FeatureRows {
  const builder = new FeatureRowsBuilder();
  events.forEach((event, i) => builder.add(i, event));
  return builder.build();
}

/**
 * The rows whose position is above `position`: a redelivery's messages already taken, or those a
 * file on disk already covers, must not be pushed or counted again.
 */
export function rowsAfter(rows: FeatureRows, position: number): FeatureRows {
  const users: string[] = [];
  const ends: number[] = [];
  const texts: string[] = [];
  const positions: number[] = [];
  const itemOf: number[] = [];
  const itemCounts = new Int32Array(rows.items.length);
  let start = 0;
  rows.users.forEach((user, u) => {
    const end = rows.ends[u]!;
    const before = texts.length;
    for (let row = start; row < end; row++) {
      if (rows.positions[row]! <= position) continue;
      texts.push(rows.texts[row]!);
      positions.push(rows.positions[row]!);
      itemOf.push(rows.itemOf[row]!);
      itemCounts[rows.itemOf[row]!]!++;
    }
    if (texts.length > before) {
      users.push(user);
      ends.push(texts.length);
    }
    start = end;
  });
  return {
    users,
    ends: Int32Array.from(ends),
    texts,
    positions: Float64Array.from(positions),
    itemOf: Int32Array.from(itemOf),
    items: rows.items,
    itemCounts,
  };
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
  rowsOfBatches: readonly FeatureRows[],
  options: FeatureOptions,
): Promise<void> {
  // One push per user and delivery, in delivery order: a user's pushes land in that order, so
  // the list ends up as one push of everything would leave it.
  const pushes: ListTextPush[] = [];
  const counts = new Map<string, number>();
  for (const rows of rowsOfBatches) {
    let start = 0;
    rows.users.forEach((userId, u) => {
      const end = rows.ends[u]!;
      pushes.push({
        key: recentItemsKey(options.keyPrefix, userId),
        texts: rows.texts.slice(start, end),
      });
      start = end;
    });
    rows.items.forEach((itemId, i) => {
      const count = rows.itemCounts[i]!;
      if (count) counts.set(itemId, (counts.get(itemId) ?? 0) + count);
    });
  }
  // Pushed onto bounded lists: nothing is read back, so a batch costs what it adds, however long
  // the users' lists already are (a read-modify-write of each list was most of the worker's CPU).
  await cache.pushListTexts(pushes, {
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
