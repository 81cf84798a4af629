/**
 * Real-time features the stream worker keeps in the cache for serving (the cache port's JSON values):
 * one shared contract, so every api instance sees interactions that reached any other one.
 */

/** Default first part of every feature key. */
export const DEFAULT_FEATURE_KEY_PREFIX = "features";

/**
 * One of a user's most recent interactions: a bounded list in the cache under `recentItemsKey`
 * (`pushLists` / `getList`, newest first); the trending scores are one value under `trendingKey`.
 */
export interface RecentItem {
  itemId: string;
  type: string;
  /** ISO-8601 event time. */
  at: string;
}

export interface TrendingScores {
  /** When the scores were last decayed to, ms since the epoch. */
  asOf: number;
  scores: Record<string, number>;
}

export const recentItemsKey = (prefix: string, userId: string) => `${prefix}:recent:${userId}`;
export const trendingKey = (prefix: string) => `${prefix}:trending`;

/** The Redis key namespace of a deployment (its topic prefix): the api and the worker share it. */
export const cacheNamespace = (topicPrefix: string) => `${topicPrefix}:cache:`;
