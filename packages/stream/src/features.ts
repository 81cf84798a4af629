import type { Cache } from "@reco/cache";
import { recentItemsKey, trendingKey, type TrendingScores } from "@reco/contracts";
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
 * strings and typed arrays cross to the main thread instead of an object (or a string) per event,
 * and the main thread hands the encoded bytes to the cache as they are.
 */
export interface FeatureRows {
  /** Each user with interactions, in the order of their first one. */
  users: string[];
  /** End (exclusive) of each user's rows. */
  ends: Int32Array;
  /** The rows' RecentItems as JSON in UTF-8, grouped by user, oldest first within a user. */
  texts: Uint8Array;
  /** End (exclusive) of each row's text in `texts`. */
  textEnds: Int32Array;
  /**
   * Per row, where its message is: its index in the delivery as built, its offset once appended
   * to a batch (so redelivered or already written messages can be dropped: `rowsAfter`).
   */
  positions: Float64Array;
  /** Per row, the index of its item in `items`. */
  itemOf: Int32Array;
  /** The items interacted with, and how often (trending). */
  items: string[];
  itemCounts: Int32Array;
}

/** What the features read of an event (an EventSummary, or a decoded event with its item). */
export type FeatureSource = Pick<EventSummary, "type" | "userId" | "eventTime" | "itemId">;

/**
 * A RecentItem's JSON, as JSON.stringify gives it: the type is one of INTERACTIONS and the time
 * is canonical ISO (isoTime), neither needing escapes; only the item id goes through stringify.
 */
function recentItemJson(itemId: string, type: string, at: string): string {
  return `{"itemId":${JSON.stringify(itemId)},"type":"${type}","at":"${at}"}`;
}

/** Collects the feature updates of a delivery's valid events (see FeatureRows). */
export class FeatureRowsBuilder {
  private readonly userIndex = new Map<string, number>();
  private readonly users: string[] = [];
  private readonly userRows: number[] = [];
  private readonly userOf: number[] = [];
  private readonly texts: string[] = [];
  private readonly textBytes: number[] = [];
  private readonly positions: number[] = [];
  private readonly itemOf: number[] = [];
  private readonly itemIndex = new Map<string, number>();
  private readonly items: string[] = [];
  private readonly itemCounts: number[] = [];

  /** Adds the event at `position` in the delivery; events other than interactions add nothing. */
  add(position: number, event: FeatureSource): void {
    if (!INTERACTIONS.has(event.type) || event.itemId === undefined) return;
    const text = recentItemJson(event.itemId, event.type, isoTime(event.eventTime));
    this.texts.push(text);
    this.textBytes.push(Buffer.byteLength(text));
    this.positions.push(position);
    this.itemOf.push(counted(this.itemIndex, this.items, this.itemCounts, event.itemId));
    this.userOf.push(counted(this.userIndex, this.users, this.userRows, event.userId));
  }

  build(): FeatureRows {
    const count = this.texts.length;
    // Each user's first row in the grouped order, then each row's place in it.
    const ends = new Int32Array(this.users.length);
    let at = 0;
    for (let user = 0; user < this.users.length; user++) ends[user] = at += this.userRows[user]!;
    const next = new Int32Array(this.users.length);
    for (let user = 0; user < this.users.length; user++) next[user] = user ? ends[user - 1]! : 0;
    const grouped = new Array<string>(count);
    const textEnds = new Int32Array(count);
    const positions = new Float64Array(count);
    const itemOf = new Int32Array(count);
    for (let row = 0; row < count; row++) {
      const place = next[this.userOf[row]!]!++;
      grouped[place] = this.texts[row]!;
      textEnds[place] = this.textBytes[row]!; // a length for now, an end below
      positions[place] = this.positions[row]!;
      itemOf[place] = this.itemOf[row]!;
    }
    let bytes = 0;
    for (let place = 0; place < count; place++) textEnds[place] = bytes += textEnds[place]!;
    // One string, encoded once, into a buffer of its own (transferable to the main thread).
    const texts = new Uint8Array(bytes);
    if (bytes) new TextEncoder().encodeInto(grouped.join(""), texts);
    return {
      users: this.users,
      ends,
      texts,
      textEnds,
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

/** Each row's text, as a string (tests, logs). */
export function rowTexts(rows: FeatureRows): string[] {
  const bytes = Buffer.from(rows.texts.buffer, rows.texts.byteOffset, rows.texts.length);
  return Array.from(rows.textEnds, (end, row) =>
    bytes.toString("utf8", row ? rows.textEnds[row - 1]! : 0, end),
  );
}

/**
 * The rows whose position is above `position`: a redelivery's messages already taken, or those a
 * file on disk already covers, must not be pushed or counted again.
 */
export function rowsAfter(rows: FeatureRows, position: number): FeatureRows {
  const users: string[] = [];
  const ends: number[] = [];
  const kept: number[] = [];
  const itemCounts = new Int32Array(rows.items.length);
  let start = 0;
  rows.users.forEach((user, u) => {
    const end = rows.ends[u]!;
    const before = kept.length;
    for (let row = start; row < end; row++) {
      if (rows.positions[row]! <= position) continue;
      kept.push(row);
      itemCounts[rows.itemOf[row]!]!++;
    }
    if (kept.length > before) {
      users.push(user);
      ends.push(kept.length);
    }
    start = end;
  });
  const textEnds = new Int32Array(kept.length);
  let bytes = 0;
  kept.forEach((row, i) => {
    textEnds[i] = bytes += rows.textEnds[row]! - (row ? rows.textEnds[row - 1]! : 0);
  });
  const texts = new Uint8Array(bytes);
  kept.forEach((row, i) => {
    const from = row ? rows.textEnds[row - 1]! : 0;
    texts.set(rows.texts.subarray(from, rows.textEnds[row]!), i ? textEnds[i - 1]! : 0);
  });
  return {
    users,
    ends: Int32Array.from(ends),
    texts,
    textEnds,
    positions: Float64Array.from(kept, (row) => rows.positions[row]!),
    itemOf: Int32Array.from(kept, (row) => rows.itemOf[row]!),
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
  // the list ends up as one push of everything would leave it. The texts go as the validation
  // thread encoded them; nothing is read back, so a batch costs what it adds, however long the
  // users' lists already are.
  const counts = new Map<string, number>();
  for (const rows of rowsOfBatches) {
    if (rows.users.length)
      await cache.pushPackedListTexts(
        {
          keys: rows.users.map((userId) => recentItemsKey(options.keyPrefix, userId)),
          keyEnds: rows.ends,
          bytes: rows.texts,
          textEnds: rows.textEnds,
        },
        { maxLength: options.recentItemsPerUser, ttlMs: options.ttlMs },
      );
    rows.items.forEach((itemId, i) => {
      const count = rows.itemCounts[i]!;
      if (count) counts.set(itemId, (counts.get(itemId) ?? 0) + count);
    });
  }
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

/** `key`'s place in `keys` (appended, with a count of 0, when new), its count raised by one. */
function counted(
  index: Map<string, number>,
  keys: string[],
  counts: number[],
  key: string,
): number {
  let at = index.get(key);
  if (at === undefined) {
    at = keys.length;
    index.set(key, at);
    keys.push(key);
    counts.push(0);
  }
  counts[at]!++;
  return at;
}
