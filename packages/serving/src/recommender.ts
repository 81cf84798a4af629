import { randomUUID } from "node:crypto";
import { CacheUnavailable, type Cache } from "@reco/cache";
import { LRUCache } from "lru-cache";
import {
  DEFAULT_FEATURE_KEY_PREFIX,
  NotFound,
  recentItemsKey,
  type RecentItem,
  type RequestContext,
  type TopicNames,
} from "@reco/contracts";
import type { InferenceBatcher } from "./batcher.ts";
import type { Catalog } from "./catalog.ts";
import type { EventQueue } from "./event-queue.ts";
import { exposureEvents, type AnswerMeta } from "./exposure.ts";
import type { InteractionHistory } from "./history.ts";
import type { ServingMetrics } from "./metrics.ts";
import type { LoadedModel, ModelPool, ModelRef, ScoreRequest } from "./model-pool.ts";
import type { PopularityRanker } from "./popularity.ts";
import type { ModelResolver } from "./resolver.ts";
import type { Recommendation } from "./schemas.ts";

export interface RoutingOptions {
  /** Below this many interactions a user gets contextual popularity (cold). */
  foldInMinInteractions: number;
  /** From this many, a user the model was trained on is scored by the model directly (warm). */
  warmMinInteractions: number;
}

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
}

export interface RecommendInput {
  userId: string;
  k: number;
  exclude: string[];
  context: RequestContext;
}

type Item = Recommendation["items"][number];
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

/**
 * What a user must not be shown: their history (shared, not copied per request) plus the request's
 * own excludes and whatever this answer already holds.
 */
class Exclusion {
  private readonly extra: Set<string>;
  constructor(
    private readonly seen: ReadonlySet<string>,
    extra: Iterable<string>,
  ) {
    this.extra = new Set(extra);
  }
  has(itemId: string): boolean {
    return this.seen.has(itemId) || this.extra.has(itemId);
  }
  add(itemId: string): void {
    this.extra.add(itemId);
  }
}

/** The model's indices of the ids it knows, appended to `into` (ids it never saw are skipped). */
function knownIndices(loaded: LoadedModel, ids: readonly string[], into: number[]): number[] {
  for (const id of ids) {
    const index = loaded.itemIndex.get(id);
    if (index !== undefined) into.push(index);
  }
  return into;
}

/** Cache keys start with the user (readable in Redis); each entry is tagged with its user. */
function userCachePrefix(userId: string): string {
  return `rec:${encodeURIComponent(userId)}:`;
}

/** The tag of all of one user's cached answers: their feedback drops them in one step. */
function userCacheTag(userId: string): string {
  return `rec-user:${userId}`;
}

/** Why the model path failed, as a metric label. */
function fallbackReason(error: unknown): string {
  const name = (error as Error)?.name ?? "";
  if (name === "ArtifactCorrupt") return "model_corrupt";
  if (name === "ModelVersionMissing" || (error as NodeJS.ErrnoException)?.code === "ENOENT")
    return "model_missing";
  if (name === "ResolverError") return "resolver_error";
  return "inference_error";
}

/**
 * The serving path: resolve the version, answer from cache, else route the user (cold → popularity,
 * a few events → fold-in from history, warm → the model), filter seen items, and fall back to
 * popularity — flagged `fallback: true` and counted — whenever the model path fails.
 */
export class RecommendationService {
  private readonly routing: RoutingOptions;
  private readonly cacheTtlMs: number;
  private readonly foldInHistory: number;
  private readonly featureKeyPrefix: string;
  /** Per model and user, bounded by count and by indices held (5M ≈ 40 MB of numbers). */
  private readonly indexCache = new LRUCache<string, { version: string; indices: number[] }>({
    max: 100_000,
    maxSize: 5_000_000,
    sizeCalculation: (value) => value.indices.length + 1,
  });

  constructor(private readonly deps: RecommendationServiceDeps) {
    this.routing = { foldInMinInteractions: 1, warmMinInteractions: 5, ...deps.routing };
    this.cacheTtlMs = deps.cacheTtlMs ?? 3_600_000;
    this.foldInHistory = deps.foldInHistory ?? 200;
    this.featureKeyPrefix = deps.featureKeyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX;
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
      resolveError = Object.assign(error as Error, { name: "ResolverError" });
    }
    const ref = resolution?.ref ?? null;
    const modelLabel = ref ? `${ref.name}@${ref.version}` : "popularity";
    const cacheKey =
      userCachePrefix(input.userId) +
      [
        modelLabel,
        resolution?.experimentKey ?? "",
        resolution?.variant ?? "",
        input.k,
        input.context.device ?? "",
        input.context.country ?? "",
        [...input.exclude].sort().join(","),
      ]
        .map((part) => encodeURIComponent(String(part)))
        .join(":");

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
      if (!computed.fallback) await this.cacheSet(cacheKey, input.userId, answer);
    }
    const recId = randomUUID();
    this.publishExposure(input, recId, answer, cached, performance.now() - started);
    // `body` is a serialised object: recId and cached go in front of its first field.
    return `{"recId":"${recId}","cached":${cached},${answer.body.slice(1)}`;
  }

  /** Items like `itemId`: the model's neighbours (history = that one item), else popularity. */
  async similar(
    itemId: string,
    k: number,
  ): Promise<{ itemId: string; items: Item[]; modelVersion: string; fallback: boolean }> {
    if (!this.deps.catalog().get(itemId)) throw new NotFound("item", itemId);
    const exclude = new Set([itemId]);
    const resolution = await this.deps.resolver
      .resolve({ userId: "", context: {} })
      .catch(() => ({ ref: null }));
    if (resolution.ref) {
      try {
        const loaded = await this.deps.pool.get(resolution.ref);
        const index = loaded.itemIndex.get(itemId);
        if (index !== undefined && loaded.model.kind !== "popularity") {
          const items = await this.scoreWithModel(
            loaded,
            { historyIndices: [index], exclude: [index] },
            k,
            exclude,
            "similar",
          );
          if (items.length > 0) return { itemId, items, modelVersion: loaded.key, fallback: false };
        }
      } catch (error) {
        this.deps.metrics.fallbacks.inc({ reason: fallbackReason(error) });
      }
    }
    return {
      itemId,
      items: this.popular(k, exclude, {}, "popular"),
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
    // This process's history, plus what the stream worker saw reach other instances.
    const elsewhere = await this.recentElsewhere(input.userId);
    const local = this.deps.history.items(input.userId);
    const seen = elsewhere.length ? [...local, ...elsewhere] : local;
    const exclude = new Exclusion(this.deps.history.seen(input.userId), [
      ...input.exclude,
      ...elsewhere,
    ]);
    const base = { userId: input.userId };
    if (!ref && popularityByDesign) {
      this.deps.metrics.recommendations.inc({ source: "popularity" });
      return {
        ...base,
        items: this.popular(input.k, exclude, input.context, "popular"),
        modelVersion: "popularity",
        fallback: false,
      };
    }
    if (!ref) {
      const reason = resolveError ? fallbackReason(resolveError) : "no_model";
      this.deps.metrics.fallbacks.inc({ reason });
      this.deps.metrics.recommendations.inc({ source: "popularity" });
      return {
        ...base,
        items: this.popular(input.k, exclude, input.context, "popular"),
        modelVersion: "popularity",
        fallback: true,
        fallbackReason: reason,
      };
    }
    if (seen.length < this.routing.foldInMinInteractions) {
      this.deps.metrics.recommendations.inc({ source: "popularity" });
      return {
        ...base,
        items: this.popular(input.k, exclude, input.context, "popular"),
        modelVersion: `${ref.name}@${ref.version}`,
        fallback: false,
      };
    }
    try {
      const loaded = await this.deps.pool.get(ref);
      const { request, source } = this.route(loaded, input, seen, elsewhere);
      const items = await this.scoreWithModel(
        loaded,
        request,
        input.k,
        exclude,
        source === "model" ? "personalized" : "similar_to_recent",
      );
      if (items.length === 0)
        throw Object.assign(new Error("model returned no items"), { name: "EmptyResult" });
      this.deps.metrics.recommendations.inc({ source });
      if (items.length < input.k) {
        for (const item of items) exclude.add(item.itemId);
        items.push(...this.popular(input.k - items.length, exclude, input.context, "popular"));
      }
      return { ...base, items, modelVersion: loaded.key, fallback: false };
    } catch (error) {
      const reason =
        (error as Error).name === "EmptyResult" ? "empty_result" : fallbackReason(error);
      this.deps.metrics.fallbacks.inc({ reason });
      this.deps.metrics.recommendations.inc({ source: "popularity" });
      return {
        ...base,
        items: this.popular(input.k, exclude, input.context, "popular"),
        modelVersion: `${ref.name}@${ref.version}`,
        fallback: true,
        fallbackReason: reason,
      };
    }
  }

  /** Warm users known to the model → their row; others → their recent history (fold-in / item-item). */
  private route(
    loaded: LoadedModel,
    input: RecommendInput,
    seen: readonly string[],
    elsewhere: readonly string[],
  ): { request: ScoreRequest; source: "model" | "foldin" } {
    const version = `${this.deps.history.version(input.userId)}\n${elsewhere.join("\n")}`;
    const seenIndices = this.seenIndices(loaded, input.userId, seen, version);
    const excludeIndices =
      input.exclude.length === 0
        ? seenIndices
        : knownIndices(loaded, input.exclude, [...seenIndices]);
    const context = { device: input.context.device, country: input.context.country };
    const userIndex = loaded.userIndex.get(input.userId);
    if (loaded.model.kind === "popularity")
      return { request: { context, exclude: excludeIndices }, source: "model" };
    if (userIndex !== undefined && seen.length >= this.routing.warmMinInteractions) {
      return { request: { userIndex, exclude: excludeIndices, context }, source: "model" };
    }
    const historyIndices = seenIndices.slice(-this.foldInHistory);
    if (historyIndices.length === 0)
      throw Object.assign(new Error("no history item known to the model"), { name: "EmptyResult" });
    return { request: { historyIndices, exclude: excludeIndices, context }, source: "foldin" };
  }

  /**
   * The model's indices of a user's history, kept until the history or the model changes: mapping a
   * few hundred ids per request costs more than scoring them.
   */
  private seenIndices(
    loaded: LoadedModel,
    userId: string,
    seen: readonly string[],
    version: string,
  ): number[] {
    const key = `${loaded.key}\n${userId}`;
    const kept = this.indexCache.get(key);
    if (kept?.version === version) return kept.indices;
    const indices = knownIndices(loaded, seen, []);
    this.indexCache.set(key, { version, indices });
    return indices;
  }

  private async scoreWithModel(
    loaded: LoadedModel,
    request: ScoreRequest,
    k: number,
    exclude: Pick<ReadonlySet<string>, "has">,
    reason: string,
  ): Promise<Item[]> {
    const ranked = await this.deps.batcher.score(loaded, request, k);
    const catalog = this.deps.catalog();
    const items: Item[] = [];
    ranked.itemIndices.forEach((index, i) => {
      const itemId = loaded.model.itemIds[index];
      if (itemId === undefined || exclude.has(itemId) || items.length >= k) return;
      const title = catalog.get(itemId)?.title;
      items.push({
        itemId,
        score: ranked.scores[i]!,
        ...(title === undefined ? {} : { title }),
        reason,
      });
    });
    return items;
  }

  private popular(
    k: number,
    exclude: Pick<ReadonlySet<string>, "has">,
    context: RequestContext,
    reason: string,
  ): Item[] {
    const catalog = this.deps.catalog();
    return this.deps
      .popularity()
      .top(k, exclude, context)
      .map((item) => {
        const title = catalog.get(item.itemId)?.title;
        return {
          itemId: item.itemId,
          score: item.count,
          ...(title === undefined ? {} : { title }),
          reason,
        };
      });
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
   * The user's recent interactions the stream worker recorded in the cache that this process has
   * not seen itself (feedback that reached another instance), oldest first. Without the cache,
   * none: serving goes on with its own history.
   */
  private async recentElsewhere(userId: string): Promise<string[]> {
    let recent: RecentItem[];
    try {
      recent = await this.deps.cache.getList<RecentItem>(
        recentItemsKey(this.featureKeyPrefix, userId),
      );
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      return [];
    }
    if (recent.length === 0) return [];
    const known = this.deps.history.seen(userId);
    const extra: string[] = [];
    for (let i = recent.length - 1; i >= 0; i -= 1) {
      const itemId = recent[i]?.itemId;
      if (typeof itemId === "string" && !known.has(itemId) && !extra.includes(itemId))
        extra.push(itemId);
    }
    return extra;
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
        eventTime: new Date().toISOString(),
        eventIds: [randomUUID(), randomUUID()],
      }),
    );
  }
}
