import { randomUUID } from "node:crypto";
import { CacheUnavailable, type Cache } from "@reco/cache";
import { NotFound, SCHEMA_VERSION, type RequestContext, type TopicNames } from "@reco/contracts";
import type { InferenceBatcher } from "./batcher.ts";
import type { Catalog } from "./catalog.ts";
import type { EventQueue } from "./event-queue.ts";
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
}

export interface RecommendInput {
  userId: string;
  k: number;
  exclude: string[];
  context: RequestContext;
}

type Item = Recommendation["items"][number];
type Computed = Omit<Recommendation, "recId" | "cached">;

/** Cache keys start with the user, so one prefix delete drops all of a user's entries. */
export function userCachePrefix(userId: string): string {
  return `rec:${encodeURIComponent(userId)}:`;
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

  constructor(private readonly deps: RecommendationServiceDeps) {
    this.routing = { foldInMinInteractions: 1, warmMinInteractions: 5, ...deps.routing };
    this.cacheTtlMs = deps.cacheTtlMs ?? 3_600_000;
    this.foldInHistory = deps.foldInHistory ?? 200;
  }

  async recommend(input: RecommendInput): Promise<Recommendation> {
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

    const hit = await this.cacheGet(cacheKey);
    let result: Recommendation;
    if (hit) {
      result = { ...hit, recId: randomUUID(), cached: true };
      this.deps.metrics.recommendations.inc({ source: "cache" });
    } else {
      // An experiment arm may serve popularity on purpose: that is its treatment, not a fallback.
      const popularityByDesign = !ref && !resolveError && Boolean(resolution?.variant);
      const computed = await this.compute(input, ref, resolveError, popularityByDesign);
      if (resolution?.variant) computed.variant = resolution.variant;
      if (resolution?.experimentKey) computed.experimentKey = resolution.experimentKey;
      if (!computed.fallback) await this.cacheSet(cacheKey, computed);
      result = { ...computed, recId: randomUUID(), cached: false };
    }
    this.publishExposure(input, result, performance.now() - started);
    return result;
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
    const seen = this.deps.history.items(input.userId);
    const exclude = new Set([...seen, ...input.exclude]);
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
      const { request, source } = this.route(loaded, input, seen);
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
  ): { request: ScoreRequest; source: "model" | "foldin" } {
    const excludeIndices = [...seen, ...input.exclude].flatMap((id) => {
      const index = loaded.itemIndex.get(id);
      return index === undefined ? [] : [index];
    });
    const context = { device: input.context.device, country: input.context.country };
    const userIndex = loaded.userIndex.get(input.userId);
    if (loaded.model.kind === "popularity")
      return { request: { context, exclude: excludeIndices }, source: "model" };
    if (userIndex !== undefined && seen.length >= this.routing.warmMinInteractions) {
      return { request: { userIndex, exclude: excludeIndices, context }, source: "model" };
    }
    const historyIndices = seen.slice(-this.foldInHistory).flatMap((id) => {
      const index = loaded.itemIndex.get(id);
      return index === undefined ? [] : [index];
    });
    if (historyIndices.length === 0)
      throw Object.assign(new Error("no history item known to the model"), { name: "EmptyResult" });
    return { request: { historyIndices, exclude: excludeIndices, context }, source: "foldin" };
  }

  private async scoreWithModel(
    loaded: LoadedModel,
    request: ScoreRequest,
    k: number,
    exclude: ReadonlySet<string>,
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
    exclude: ReadonlySet<string>,
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

  private async cacheGet(key: string): Promise<Computed | undefined> {
    try {
      const value = await this.deps.cache.get<Computed>(key);
      this.deps.metrics.cacheRequests.inc({ result: value ? "hit" : "miss" });
      return value;
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.deps.metrics.cacheRequests.inc({ result: "error" });
      return undefined;
    }
  }

  private async cacheSet(key: string, value: Computed): Promise<void> {
    try {
      await this.deps.cache.set(key, value, { ttlMs: this.cacheTtlMs });
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
    }
  }

  /** Drops every cached answer for the user (their feedback changes what they should see). */
  async invalidateUser(userId: string): Promise<void> {
    try {
      await this.deps.cache.deleteByPrefix(userCachePrefix(userId));
    } catch (error) {
      if (!(error instanceof CacheUnavailable)) throw error;
      this.deps.metrics.cacheRequests.inc({ result: "error" });
    }
  }

  /** reco.requests + reco.responses, as telemetry: dropped (and counted) when the queue is full. */
  private publishExposure(input: RecommendInput, result: Recommendation, latencyMs: number): void {
    const eventTime = new Date().toISOString();
    const context = input.context.device || input.context.country ? { context: input.context } : {};
    this.deps.events.offer("telemetry", [
      {
        topic: this.deps.topics.requests,
        key: input.userId,
        value: {
          schemaVersion: SCHEMA_VERSION,
          eventId: randomUUID(),
          eventTime,
          userId: input.userId,
          type: "reco.request",
          recId: result.recId,
          k: input.k,
          ...context,
        },
      },
      {
        topic: this.deps.topics.responses,
        key: input.userId,
        value: {
          schemaVersion: SCHEMA_VERSION,
          eventId: randomUUID(),
          eventTime,
          userId: input.userId,
          type: "reco.response",
          recId: result.recId,
          itemIds: result.items.map((item) => item.itemId),
          modelVersion: result.modelVersion,
          ...(result.experimentKey ? { experimentKey: result.experimentKey } : {}),
          ...(result.variant ? { variant: result.variant } : {}),
          latencyMs: Math.max(0, latencyMs),
          cacheHit: result.cached,
          fallback: result.fallback,
          ...(result.fallbackReason ? { fallbackReason: result.fallbackReason } : {}),
          status: 200,
        },
      },
    ]);
  }
}
