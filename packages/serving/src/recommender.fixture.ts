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
import { FixedModelResolver, type ModelResolution, type ModelResolver } from "./resolver.ts";
import type { Recommendation } from "./schemas.ts";

/** Items i0..i19 the model knows, plus x1, which only the catalog has. */
export const ITEM_IDS = Array.from({ length: 20 }, (_, j) => `i${j}`);

/**
 * A tiny in-memory model over ITEM_IDS: item j scores 20 - j whoever asks (so its order is i0, i1,
 * …), minus the excluded indices, at most `limit` items; it knows users u0 and u1.
 */
class RankingModel implements ServableModel {
  readonly kind = "factors" as const;
  readonly nItems = ITEM_IDS.length;
  readonly itemIds = ITEM_IDS;
  readonly userIds = ["u0", "u1"];
  readonly requests: ScoreRequest[] = [];
  constructor(private readonly options: { limit?: number; failWith?: Error }) {}
  async recommend(batch: ScoreRequest[], k: number): Promise<Ranked[]> {
    this.requests.push(...batch);
    if (this.options.failWith) throw this.options.failWith;
    return batch.map((request) => {
      const excluded = new Set(request.exclude ?? []);
      const itemIndices = this.itemIds
        .map((_, j) => j)
        .filter((j) => !excluded.has(j))
        .slice(0, Math.min(k, this.options.limit ?? k));
      return { itemIndices, scores: itemIndices.map((j) => this.nItems - j) };
    });
  }
  async release(): Promise<void> {}
}

export const REF = { name: "m", version: "v1", artifactPath: "/nowhere" };

export interface RecommenderHarness {
  service: RecommendationService;
  metrics: ServingMetrics;
  cache: MemoryCache;
  history: InteractionHistory;
  model: RankingModel;
  /** Where the exposure events go (a file log in a temp dir), and the queue in front of it. */
  bus: FileLogBus;
  topics: TopicNames;
  events: EventQueue;
  /** GET /recommend's answer, parsed. */
  recommend(
    userId: string,
    k: number,
    extra?: { exclude?: string[]; context?: RequestContext },
  ): Promise<Recommendation>;
  close(): Promise<void>;
}

/**
 * A RecommendationService over real in-process parts (memory cache, file-log bus, batcher, pool)
 * and a small ranking model. Users: u0 warm (6 events, known to the model), u1 known with 2 events
 * and f1 unknown with 1 (fold-in), x with only an item the model does not know, cold with none.
 * Popularity ranks i19, i18, … (and i5, i6 first on a tv).
 */
export async function recommenderHarness(
  options: {
    resolution?: ModelResolution;
    resolver?: ModelResolver;
    model?: { limit?: number; failWith?: Error };
    loadError?: Error;
    /** The cache the service uses (default: a fresh MemoryCache); closed with the harness. */
    cache?: MemoryCache;
    deps?: Partial<RecommendationServiceDeps>;
  } = {},
): Promise<RecommenderHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "recommender-"));
  const bus: FileLogBus = await openFileLogBus({ dir });
  const topics = topicNames("t");
  await bus.ensureTopics(Object.values(topics), 1);
  const metrics = new ServingMetrics({ defaultMetrics: false });
  const cache = options.cache ?? new MemoryCache();
  const catalog = Catalog.fromItems(
    [...ITEM_IDS, "x1"].map((itemId) => ({ itemId, title: `T ${itemId}`, genres: [], year: null })),
  );
  const popularity = new PopularityRanker({
    global: [...ITEM_IDS].reverse().map((itemId, n) => ({ itemId, count: 100 - n })),
    byContext: new Map([
      [
        "device:tv",
        [
          { itemId: "i5", count: 9 },
          { itemId: "i6", count: 8 },
        ],
      ],
    ]),
  });
  const history = new InteractionHistory();
  for (const itemId of ["i1", "i2", "i3", "i4", "i5", "i6"]) history.record("u0", itemId);
  for (const itemId of ["i0", "i2"]) history.record("u1", itemId);
  history.record("f1", "i3");
  history.record("x", "x1");
  const model = new RankingModel(options.model ?? {});
  const pool = new ModelPool({
    loader: async () => {
      if (options.loadError) throw options.loadError;
      return model;
    },
    metrics,
  });
  const events = new EventQueue({ bus, metrics, capacity: 1_000 });
  const service = new RecommendationService({
    pool,
    batcher: new InferenceBatcher({ windowMs: 0, maxBatch: 1 }, metrics),
    resolver: options.resolver ?? new FixedModelResolver(options.resolution ?? { ref: REF }),
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
    metrics,
    cache,
    history,
    model,
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

/** The answer's items as `itemId:reason`. */
export const picked = (answer: { items: { itemId: string; reason: string }[] }): string[] =>
  answer.items.map((item) => `${item.itemId}:${item.reason}`);
