import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openFileLogBus, type FileLogBus } from "@reco/bus";
import { MemoryCache } from "@reco/cache";
import { topicNames, type RequestContext, type TopicNames } from "@reco/contracts";
import { InferenceBatcher } from "./batcher.ts";
import { Catalog } from "./catalog.ts";
import { EventQueue } from "./event-queue.ts";
import { InteractionHistory } from "./history.ts";
import { ServingMetrics } from "./metrics.ts";
import { ModelPool, type Ranked, type ScoreRequest, type ServableModel } from "./model-pool.ts";
import { PopularityRanker } from "./popularity.ts";
import { RecommendationService, type RecommendationServiceDeps } from "./recommender.ts";
import { FixedModelResolver } from "./resolver.ts";
import type { Recommendation } from "./schemas.ts";

/** Items i0..i19: the model and the catalog know them all. */
export const LOOSE_ITEMS = Array.from({ length: 20 }, (_, j) => `i${j}`);

/** An index past the model's item table, which the model puts first in every answer. */
export const STALE_INDEX = LOOSE_ITEMS.length + 3;

export interface LooseModelOptions {
  kind?: ServableModel["kind"];
  /** The users the model has a row for, in row order. */
  userIds?: string[];
  /** Answers nothing at all. */
  empty?: boolean;
  /**
   * Honours the request's exclude and k as the real scorer does (its ranking otherwise the same, and
   * no stale index): a request that forgets an item the user has seen gets it back in its top k.
   * Like the real scorer, it refuses an exclude index it has no item for.
   */
  strict?: boolean;
}

/**
 * A model that honours neither the request's exclude nor k, as a careless scorer might: it returns
 * every item, and an index it has no item for (STALE_INDEX) first (unless `strict`). Its ranking,
 * stated so a test can write its expectations down:
 * - popularity: i0, i1, …, i19 (it reads only the context, never a user or a history);
 * - a user row r: starting at i(5r) and wrapping round (row 1: i5, i6, …, i19, i0, …, i4);
 * - a history: starting right after its last item and wrapping round (…, i3 → i4, i5, …);
 * - in a context it knows (device "tv" or country "FR") that ranking is reversed.
 */
export class LooseModel implements ServableModel {
  readonly kind: ServableModel["kind"];
  readonly nItems = LOOSE_ITEMS.length;
  readonly itemIds = LOOSE_ITEMS;
  readonly userIds: string[];
  constructor(private readonly options: LooseModelOptions = {}) {
    this.kind = options.kind ?? "factors";
    this.userIds = options.userIds ?? [];
  }

  async recommend(batch: ScoreRequest[], k: number): Promise<Ranked[]> {
    return batch.map((request) => {
      if (this.options.empty) return { itemIndices: [], scores: [] };
      const n = this.nItems;
      let start = 0;
      if (this.kind !== "popularity") {
        const history = request.historyIndices ?? [];
        if (history.length) start = (history[history.length - 1]! + 1) % n;
        else if (request.userIndex !== undefined) start = (5 * request.userIndex) % n;
      }
      let order = Array.from({ length: n }, (_, j) => (start + j) % n);
      const context = request.context ?? {};
      if (context.device === "tv" || context.country === "FR") order = order.reverse();
      if (this.options.strict) {
        for (const index of request.exclude ?? [])
          if (!Number.isInteger(index) || index < 0 || index >= n)
            throw new RangeError(`exclude index ${index} is not an item of this model`);
        const excluded = new Set(request.exclude ?? []);
        order = order.filter((j) => !excluded.has(j)).slice(0, k);
      }
      const itemIndices = this.options.strict ? order : [STALE_INDEX, ...order];
      return { itemIndices, scores: itemIndices.map((_, i) => n + 1 - i) };
    });
  }

  async release(): Promise<void> {}
}

export interface LooseHarness {
  service: RecommendationService;
  cache: MemoryCache;
  metrics: ServingMetrics;
  history: InteractionHistory;
  bus: FileLogBus;
  topics: TopicNames;
  events: EventQueue;
  recommend(
    userId: string,
    k: number,
    extra?: { exclude?: string[]; context?: RequestContext },
  ): Promise<Recommendation>;
  close(): Promise<void>;
}

/**
 * A RecommendationService over real in-process parts (memory cache, file-log bus, batcher, pool)
 * and a LooseModel served as m@v1 (or no model: `model: null`). `histories` are recorded in order.
 * The service's own popularity ranks i19, i18, …, i0 (the other way round from a popularity model).
 */
export async function looseHarness(
  options: {
    model?: LooseModelOptions | null;
    histories?: Record<string, string[]>;
    cache?: MemoryCache;
    /** Events the queue holds (default 1,000). */
    queueCapacity?: number;
    deps?: Partial<RecommendationServiceDeps>;
  } = {},
): Promise<LooseHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "loose-model-"));
  const bus = await openFileLogBus({ dir });
  const topics = topicNames("t");
  await bus.ensureTopics(Object.values(topics), 1);
  const metrics = new ServingMetrics({ defaultMetrics: false });
  const cache = options.cache ?? new MemoryCache();
  const catalog = Catalog.fromItems(
    LOOSE_ITEMS.map((itemId) => ({ itemId, title: `T ${itemId}`, genres: [], year: null })),
  );
  const popularity = new PopularityRanker({
    global: [...LOOSE_ITEMS].reverse().map((itemId, n) => ({ itemId, count: 100 - n })),
    byContext: new Map(),
  });
  const history = new InteractionHistory();
  for (const [userId, items] of Object.entries(options.histories ?? {}))
    for (const itemId of items) history.record(userId, itemId);
  const model = options.model === null ? null : new LooseModel(options.model ?? {});
  const pool = new ModelPool({ loader: async () => model!, metrics });
  const events = new EventQueue({ bus, metrics, capacity: options.queueCapacity ?? 1_000 });
  const service = new RecommendationService({
    pool,
    batcher: new InferenceBatcher({ windowMs: 0, maxBatch: 1 }, metrics),
    resolver: new FixedModelResolver({
      ref: model ? { name: "m", version: "v1", artifactPath: "/nowhere" } : null,
    }),
    popularity: () => popularity,
    history,
    catalog: () => catalog,
    cache,
    metrics,
    events,
    topics,
    ...options.deps,
  });
  return {
    service,
    cache,
    metrics,
    history,
    bus,
    topics,
    events,
    async recommend(userId, k, extra = {}) {
      return JSON.parse(
        await service.recommendJson({
          userId,
          k,
          exclude: extra.exclude ?? [],
          context: extra.context ?? {},
        }),
      );
    },
    async close() {
      await events.close(1_000);
      await pool.close();
      await bus.close();
      await cache.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
