import { CacheUnavailable, type Cache } from "@reco/cache";
import {
  DEFAULT_FEATURE_KEY_PREFIX,
  NotFound,
  recentItemsKey,
  type RecentItem,
  type TopicNames,
  randomId,
} from "@reco/contracts";
import type { InferenceBatcher } from "./batcher.ts";
import { hasFilter, NO_FILTER, type Catalog, type ItemFilter } from "./catalog.ts";
import type { EventQueue } from "./event-queue.ts";
import { exposureEvents, type AnswerMeta } from "./exposure.ts";
import type { InteractionHistory } from "./history.ts";
import type { ServingMetrics } from "./metrics.ts";
import { modelKey, type ModelPool, type ModelRef } from "./model-pool.ts";
import type { PopularityRanker } from "./popularity.ts";
import { ModelResolutionFailed, type ModelResolver } from "./resolver.ts";
import type { Recommendation } from "./schemas.ts";
import {
  candidatesFor,
  ChainContext,
  defaultStrategies,
  Exclusion,
  fallbackReason,
  HistoryIndexCache,
  popularItems,
  rankedItems,
  runStrategies,
  type ChainSettings,
  type Item,
  type RecommendInput,
  type RecommendStrategy,
  type RoutingOptions,
} from "./strategies/index.ts";

export type { RecommendInput, RoutingOptions };

export interface RecommendationServiceDeps {
  pool: ModelPool;
  batcher: InferenceBatcher;
  resolver: ModelResolver;
  /** A getter: popularity is reloaded in the background and swapped in. */
  popularity: () => PopularityRanker;
  history: InteractionHistory;
  catalog: () => Catalog;
  cache: Cache;
  metrics: ServingMetrics;
  events: EventQueue;
  topics: TopicNames;
  routing?: Partial<RoutingOptions>;
  cacheTtlMs?: number;
  /** Users and items whose history feeds fold-in: the most recent this many. */
  foldInHistory?: number;
  /** Where the stream worker keeps each user's recent interactions in the cache (its config's). */
  featureKeyPrefix?: string;
  /**
   * Keep each user's fed-back items in the cache too (a set of every item, and a bounded recent
   * list), written at feedback time and read on every uncached answer: with a cache shared by
   * several api instances (Redis), feedback posted to one is excluded and folded in by all at once.
   * Off (default): each process has its own history only.
   */
  sharedHistory?: SharedHistoryOptions | false;
  /**
   * How an answer is filled, in order, until it holds k items (default `defaultStrategies`: warm
   * model, fold-in, popularity). A new way to recommend is one more element here.
   */
  strategies?: readonly RecommendStrategy[];
  /**
   * The most candidates a model is asked for in a filtered answer (default MAX_CANDIDATES, 64):
   * more keeps more of a narrow filter's answer personalised, at a dearer TopK (bench/filters).
   */
  maxFilterCandidates?: number;
}

export interface SharedHistoryOptions {
  /** How long a user's shared items live after their last feedback (restarted by each). */
  ttlMs: number;
}

/** A day: far longer than the stream worker takes to bring feedback into the snapshots. */
export const DEFAULT_SHARED_HISTORY_TTL_MS = 24 * 3_600_000;

/** Every item a user fed back through any api instance (a set in the shared cache). */
export const sharedSeenKey = (userId: string) => `serving:seen:${userId}`;
/** The latest items a user fed back through any api instance (a list, newest first). */
export const sharedRecentKey = (userId: string) => `serving:recent:${userId}`;

type Computed = Omit<Recommendation, "recId" | "cached">;

/** One answer, serialised: the response body and the exposure fields (AnswerMeta) as JSON. */
interface CachedAnswer {
  /** JSON of the answer without recId and cached (they differ per request). */
  body: string;
  metaJson: string;
}

function cachedAnswer(computed: Computed): CachedAnswer {
  const meta: AnswerMeta = {
    itemIds: computed.items.map((item) => item.itemId),
    modelVersion: computed.modelVersion,
    ...(computed.experimentKey ? { experimentKey: computed.experimentKey } : {}),
    ...(computed.variant ? { variant: computed.variant } : {}),
    fallback: computed.fallback,
    ...(computed.fallbackReason ? { fallbackReason: computed.fallbackReason } : {}),
  };
  return { body: JSON.stringify(computed), metaJson: JSON.stringify(meta) };
}

/**
 * Cached as text: the meta JSON on the first line, then the body. A hit is split, never parsed
 * (JSON holds no raw newline, so the first one ends the meta).
 */
function encodeAnswer({ body, metaJson }: CachedAnswer): string {
  return `${metaJson}\n${body}`;
}

function decodeAnswer(text: string): CachedAnswer | undefined {
  const newline = text.indexOf("\n");
  // Anything else under our key (not written by this code) is a miss.
  if (!text.startsWith('{"itemIds":') || newline < 0 || text[newline + 1] !== "{") return undefined;
  return { metaJson: text.slice(0, newline), body: text.slice(newline + 1) };
}

/** The filter's part of the cache key: the same for the same categories in any order. */
function filterKey(filter: ItemFilter | undefined): string {
  if (!filter || (filter.categories.length === 0 && filter.excludeCategories.length === 0))
    return "";
  return `${[...filter.categories].sort().join(",")}|${[...filter.excludeCategories].sort().join(",")}`;
}

let isoMs = Number.NaN;
let isoText = "";

/** The time as an ISO string, made once per millisecond (every served answer stamps two events). */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoText = new Date(now).toISOString();
    isoMs = now;
  }
  return isoText;
}

/** Cache keys start with the user (readable in Redis); each entry is tagged with its user. */
function userCachePrefix(userId: string): string {
  return `rec:${encodeURIComponent(userId)}:`;
}

/** The tag of all of one user's cached answers: their feedback drops them in one step. */
function userCacheTag(userId: string): string {
  return `rec-user:${userId}`;
}

/**
 * The serving path: resolve the version, answer from cache, else fill the answer through the
 * strategies (by default: warm → the model, a few events → fold-in from history, then popularity for
 * cold users and short answers), never showing seen items; an answer is flagged `fallback: true` and
 * counted when there is no model or a strategy failed.
 */
export class RecommendationService {
  private readonly routing: RoutingOptions;
  private readonly cacheTtlMs: number;
  private readonly foldInHistory: number;
  private readonly featureKeyPrefix: string;
  private readonly strategies: readonly RecommendStrategy[];
  private readonly chain: ChainSettings;

  constructor(private readonly deps: RecommendationServiceDeps) {
    this.routing = { foldInMinInteractions: 1, warmMinInteractions: 5, ...deps.routing };
    this.cacheTtlMs = deps.cacheTtlMs ?? 3_600_000;
    this.foldInHistory = deps.foldInHistory ?? 200;
    this.featureKeyPrefix = deps.featureKeyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX;
    this.strategies = deps.strategies ?? defaultStrategies;
    this.chain = {
      ...deps,
      routing: this.routing,
      foldInHistory: this.foldInHistory,
      historyIndices: new HistoryIndexCache(),
    };
  }

  /**
   * The response body for GET /recommend, as JSON text. Answers are cached already serialised (with
   * what exposure logging needs beside them as JSON), so a cache hit is a split and a splice, with no
   * parse and no re-serialising of the item list.
   */
  async recommendJson(input: RecommendInput): Promise<string> {
    const started = performance.now();
    let resolution;
    let resolveError: unknown;
    try {
      resolution = await this.deps.resolver.resolve({
        userId: input.userId,
        context: input.context,
      });
    } catch (error) {
      resolveError = new ModelResolutionFailed(error);
    }
    const ref = resolution?.ref ?? null;
    const modelLabel = ref ? `${ref.name}@${ref.version}` : "popularity";
    // The catalog's version: any item change (or an availability bound passing) moves every
    // instance to new keys at once, so no cached answer outlives a change (see Catalog).
    const catalogVersion = this.deps.catalog().version();
    // Built in one template (no array of parts, no closure): a few per cent of a cached answer.
    const e = encodeURIComponent;
    const exclude = input.exclude.length === 0 ? "" : [...input.exclude].sort().join(",");
    const cacheKey =
      `${userCachePrefix(input.userId)}${e(modelLabel)}:${e(resolution?.experimentKey ?? "")}:` +
      `${e(resolution?.variant ?? "")}:${input.k}:${e(input.context.device ?? "")}:` +
      `${e(input.context.country ?? "")}:${e(exclude)}:${e(catalogVersion)}:${e(filterKey(input.filter))}`;

    let answer = await this.cacheGet(cacheKey);
    const cached = answer !== undefined;
    if (answer) {
      this.deps.metrics.recommendations.inc({ source: "cache" });
    } else {
      // An experiment arm may serve popularity on purpose: that is its treatment, not a fallback.
      const popularityByDesign = !ref && !resolveError && Boolean(resolution?.variant);
      const computed = await this.compute(input, ref, resolveError, popularityByDesign);
      if (resolution?.variant) computed.variant = resolution.variant;
      if (resolution?.experimentKey) computed.experimentKey = resolution.experimentKey;
      answer = cachedAnswer(computed);
      // A change applied while computing: the answer may mix both states, so it is not kept.
      if (!computed.fallback && this.deps.catalog().version() === catalogVersion)
        await this.cacheSet(cacheKey, input.userId, answer);
    }
    const recId = randomId();
    this.publishExposure(input, recId, answer, cached, performance.now() - started);
    // `body` is a serialised object: recId and cached go in front of its first field.
    return `{"recId":"${recId}","cached":${cached},${answer.body.slice(1)}`;
  }

  /**
   * Items like `itemId`: the model's neighbours (history = that one item) that may be recommended
   * and pass `filter`, topped up from popularity within it; popularity alone without a model.
   */
  async similar(
    itemId: string,
    k: number,
    filter: ItemFilter = NO_FILTER,
  ): Promise<{ itemId: string; items: Item[]; modelVersion: string; fallback: boolean }> {
    const catalog = this.deps.catalog();
    if (!catalog.get(itemId)) throw new NotFound("item", itemId);
    const now = Date.now();
    const exclude = new Exclusion(new Set([itemId]), [], (id) => catalog.admits(id, filter, now));
    const resolution = await this.deps.resolver
      .resolve({ userId: "", context: {} })
      .catch(() => ({ ref: null }));
    if (resolution.ref) {
      try {
        const loaded = await this.deps.pool.get(resolution.ref);
        const index = loaded.itemIndex.get(itemId);
        if (index !== undefined && loaded.model.kind !== "popularity") {
          const items = await rankedItems(
            this.deps.batcher,
            catalog,
            loaded,
            { historyIndices: [index], exclude: [index] },
            k,
            exclude,
            "similar",
            candidatesFor(k, catalog, filter, this.deps.maxFilterCandidates),
          );
          // With a filter, a model answer none of whose candidates pass is still the model's.
          if (items.length > 0 || hasFilter(filter)) {
            for (const item of items) exclude.add(item.itemId);
            if (items.length < k)
              items.push(
                ...popularItems(
                  this.deps.popularity(),
                  catalog,
                  k - items.length,
                  exclude,
                  {},
                  "popular",
                ),
              );
            return { itemId, items, modelVersion: loaded.key, fallback: false };
          }
        }
      } catch (error) {
        this.deps.metrics.fallbacks.inc({ reason: fallbackReason(error) });
      }
    }
    return {
      itemId,
      items: popularItems(this.deps.popularity(), catalog, k, exclude, {}, "popular"),
      modelVersion: "popularity",
      fallback: true,
    };
  }

  private async compute(
    input: RecommendInput,
    ref: ModelRef | null,
    resolveError: unknown,
    popularityByDesign = false,
  ): Promise<Computed> {
    // This process's history, plus what reached other instances (the stream worker's recent list,
    // and with a shared history what any instance was told at feedback time).
    const { recent: elsewhere, seen: seenElsewhere } = await this.historyElsewhere(input.userId);
    const local = this.deps.history.items(input.userId);
    const seen = elsewhere.length ? [...local, ...elsewhere] : local;
    const catalog = this.deps.catalog();
    const filter = input.filter ?? NO_FILTER;
    const now = Date.now();
    const exclude = new Exclusion(
      this.deps.history.seen(input.userId),
      [...input.exclude, ...elsewhere, ...seenElsewhere],
      (itemId) => catalog.admits(itemId, filter, now),
    );
    const ctx = new ChainContext(this.chain, input, ref, seen, elsewhere, exclude, seenElsewhere);
    // No version to serve makes the answer a fallback, unless an experiment arm serves popularity.
    const reason =
      ref || popularityByDesign
        ? undefined
        : resolveError
          ? fallbackReason(resolveError)
          : "no_model";
    const answer = await runStrategies(this.strategies, ctx, exclude, this.deps.metrics, reason);
    return {
      userId: input.userId,
      items: answer.items,
      modelVersion: ref ? modelKey(ref) : "popularity",
      fallback: answer.fallbackReason !== undefined,
      ...(answer.fallbackReason === undefined ? {} : { fallbackReason: answer.fallbackReason }),
    };
  }

  private async cacheGet(key: string): Promise<CachedAnswer | undefined> {
    try {
      const text = await this.deps.cache.getText(key);
      const value = text === undefined ? undefined : decodeAnswer(text);
      this.deps.metrics.cacheRequests.inc({ result: value ? "hit" : "miss" });
      return value;
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.deps.metrics.cacheRequests.inc({ result: "error" });
      return undefined;
    }
  }

  private async cacheSet(key: string, userId: string, value: CachedAnswer): Promise<void> {
    try {
      await this.deps.cache.setText(key, encodeAnswer(value), {
        ttlMs: this.cacheTtlMs,
        tag: userCacheTag(userId),
      });
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
    }
  }

  /**
   * What the user did that this process has not seen itself (feedback that reached another
   * instance): `recent`, oldest first, from the stream worker's recent list and the shared recent
   * list; `seen`, every other item of the shared set (for exclusion only). Without the cache, none:
   * serving goes on with its own history.
   */
  private async historyElsewhere(userId: string): Promise<{ recent: string[]; seen: string[] }> {
    const shared = this.deps.sharedHistory;
    let lists: RecentItem[][];
    let members: string[];
    const recentKey = recentItemsKey(this.featureKeyPrefix, userId);
    try {
      // Without a shared history one list is read: no Promise.all and its arrays on every answer.
      [lists, members] = shared
        ? await Promise.all([
            Promise.all([
              this.deps.cache.getList<RecentItem>(recentKey),
              this.deps.cache.getList<RecentItem>(sharedRecentKey(userId)),
            ]),
            this.deps.cache.getSet(sharedSeenKey(userId)),
          ])
        : [[await this.deps.cache.getList<RecentItem>(recentKey)], []];
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      return { recent: [], seen: [] };
    }
    const known = this.deps.history.seen(userId);
    const recent: string[] = [];
    for (const list of lists) {
      for (let i = list.length - 1; i >= 0; i -= 1) {
        const itemId = list[i]?.itemId;
        if (typeof itemId === "string" && !known.has(itemId) && !recent.includes(itemId))
          recent.push(itemId);
      }
    }
    const seen: string[] = [];
    for (const itemId of members)
      if (!known.has(itemId) && !recent.includes(itemId)) seen.push(itemId);
    return { recent, seen };
  }

  /**
   * With a shared history: the feedback's items join each user's shared set and recent list, so
   * every instance excludes and folds them in from its next answer. A cache that is down is
   * counted and skipped (the feedback is on the bus; this process has it in its own history).
   */
  async shareInteractions(
    events: readonly { userId: string; itemId: string; type: string; eventTime: string }[],
  ): Promise<void> {
    const shared = this.deps.sharedHistory;
    if (!shared || events.length === 0) return;
    const byUser = new Map<string, RecentItem[]>();
    for (const event of events) {
      let items = byUser.get(event.userId);
      if (!items) byUser.set(event.userId, (items = []));
      items.push({ itemId: event.itemId, type: event.type, at: event.eventTime });
    }
    try {
      await Promise.all([
        this.deps.cache.addToSets(
          [...byUser].map(([userId, items]) => ({
            key: sharedSeenKey(userId),
            members: items.map((item) => item.itemId),
          })),
          { ttlMs: shared.ttlMs },
        ),
        this.deps.cache.pushLists(
          [...byUser].map(([userId, values]) => ({ key: sharedRecentKey(userId), values })),
          { maxLength: this.foldInHistory, ttlMs: shared.ttlMs },
        ),
      ]);
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.deps.metrics.cacheRequests.inc({ result: "error" });
    }
  }

  /** Drops every cached answer for the user (their feedback changes what they should see). */
  async invalidateUser(userId: string): Promise<void> {
    try {
      await this.deps.cache.deleteTag(userCacheTag(userId));
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.deps.metrics.cacheRequests.inc({ result: "error" });
    }
  }

  /**
   * Removes everything the cache holds about the user (a deletion): their cached answers, the
   * stream worker's recent list and the shared recent list and seen set; returns how many entries
   * went. Errors (a cache that is down) reach the caller, which retries the deletion.
   */
  async forgetUser(userId: string): Promise<number> {
    const { cache } = this.deps;
    const counts = await Promise.all([
      cache.deleteTag(userCacheTag(userId)),
      cache.deleteByPrefix(userCachePrefix(userId)),
      ...[
        recentItemsKey(this.featureKeyPrefix, userId),
        sharedRecentKey(userId),
        sharedSeenKey(userId),
      ].map(async (key) => ((await cache.delete(key)) ? 1 : 0)),
    ]);
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** reco.requests + reco.responses, as telemetry: dropped (and counted) when the queue is full. */
  private publishExposure(
    input: RecommendInput,
    recId: string,
    answer: CachedAnswer,
    cacheHit: boolean,
    latencyMs: number,
  ): void {
    this.deps.events.offer(
      "telemetry",
      exposureEvents({
        topics: this.deps.topics,
        userId: input.userId,
        k: input.k,
        context: input.context,
        recId,
        metaJson: answer.metaJson,
        cacheHit,
        latencyMs,
        eventTime: isoNow(),
        eventIds: [randomId(), randomId()],
      }),
    );
  }
}
