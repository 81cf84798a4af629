import type { ArtifactCache } from "./artifact-cache.ts";
import { availableParallelism } from "node:os";
import type { EventBus } from "@reco/bus";
import type { Cache } from "@reco/cache";
import type { TopicNames } from "@reco/contracts";
import { ModelVersionStore, type PrismaClient } from "@reco/db";
import { createScorer } from "@reco/ml";
import { InferenceThread } from "./inference-thread.ts";
import { InferenceBatcher } from "./batcher.ts";
import { Catalog, type CatalogItem } from "./catalog.ts";
import { subscribeCatalogChanges, type CatalogSubscription } from "./catalog-sync.ts";
import { ItemService } from "./items.ts";
import { EventQueue } from "./event-queue.ts";
import { DEFAULT_FEEDBACK_ACK_TIMEOUT_MS, FeedbackService, type FeedbackAck } from "./feedback.ts";
import { InteractionHistory } from "./history.ts";
import { ServingMetrics } from "./metrics.ts";
import { ModelPool, type ModelLoader } from "./model-pool.ts";
import { PopularityRanker } from "./popularity.ts";
import { SharedRateLimiter, TokenBucketLimiter, type RateLimiter } from "./rate-limit.ts";
import {
  DEFAULT_SHARED_HISTORY_TTL_MS,
  RecommendationService,
  type RoutingOptions,
} from "./recommender.ts";
import { defaultStrategies, newItemsStrategy, type RecommendStrategy } from "./strategies/index.ts";
import { StableModelResolver, type ModelResolver } from "./resolver.ts";
import { UserDataService, type UserDataServiceDeps } from "./user-data.ts";

export interface ServingOptions {
  modelCacheSize: number;
  /** onnxruntime intra-op threads per session (default: every core but one). */
  inferenceThreads: number;
  /** Run ONNX sessions on a worker thread (default) rather than on the event loop. */
  inferenceOnThread: boolean;
  batchWindowMs: number;
  maxBatch: number;
  eventQueueCapacity: number;
  /** When /feedback answers: "durable" (stored by the bus) or "queued" (unsafe, for comparison). */
  feedbackAck: FeedbackAck;
  /** Durable feedback: the longest a request waits for the bus before its 503. */
  feedbackAckTimeoutMs: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  routing?: Partial<RoutingOptions>;
  cacheTtlMs?: number;
  /**
   * Rate limits and users' fed-back items kept in the cache, shared by every api instance that uses
   * the same one (default: when the cache is Redis). Off, each process has its own.
   */
  sharedState?: boolean;
  /** Shared state: how long a user's fed-back items stay after their last feedback (default a day). */
  sharedHistoryTtlMs?: number;
  /** The most candidates a model is asked for in a filtered answer (default 64; see MAX_CANDIDATES). */
  maxFilterCandidates?: number;
  /**
   * Up to this many items the served model was trained without (created since, through the item
   * API) lead a personalised answer when their content matches the user's history (default 0: off;
   * see newItemsStrategy). Ignored when `strategies` are given.
   */
  newItemSlots?: number;
}

/**
 * Every core but one for inference leaves the event loop a core of its own, and a batch of at most
 * 16 lets two batches overlap (one scored while the event loop answers and gathers the other).
 * Measured at 100k items, c = 32, 2 cores (bench/serve): 1 intra-op thread and batches of 16 served
 * 5.4k req/s; 2 threads and 32, 4.8k; 2 and 16, 5.1k; 1 and 32, 3.5k.
 */
export const DEFAULT_INFERENCE_THREADS = Math.max(1, availableParallelism() - 1);
export const DEFAULT_MAX_BATCH = 16;

export const defaultServingOptions: ServingOptions = {
  modelCacheSize: 3,
  inferenceThreads: DEFAULT_INFERENCE_THREADS,
  inferenceOnThread: true,
  batchWindowMs: 1,
  maxBatch: DEFAULT_MAX_BATCH,
  eventQueueCapacity: 10_000,
  feedbackAck: "durable",
  feedbackAckTimeoutMs: DEFAULT_FEEDBACK_ACK_TIMEOUT_MS,
  rateLimitPerSecond: 200,
  rateLimitBurst: 400,
};

export interface ServingRuntimeDeps {
  prisma: PrismaClient;
  cache: Cache;
  bus: EventBus;
  topics: TopicNames;
  snapshotsRoot: string;
  options?: Partial<ServingOptions>;
  /** Defaults to the newest stable version in the database. */
  resolver?: ModelResolver;
  /** Defaults to @reco/ml's createScorer (checksum-verified ONNX session). */
  loader?: ModelLoader;
  /** S3 mode: versions whose artifactPath is in object storage are fetched through it first. */
  artifacts?: ArtifactCache;
  metrics?: ServingMetrics;
  /** How answers are filled, in order (default: warm model, fold-in, popularity). */
  strategies?: readonly RecommendStrategy[];
  onError?: (error: Error, what: string) => void;
  /** User deletions: retry delay, and a test hook (see UserDataServiceDeps). */
  userDeletion?: Pick<UserDataServiceDeps, "retryDelayMs" | "afterSnapshotFileRewritten">;
}

export interface ServingRuntime {
  metrics: ServingMetrics;
  recommendations: RecommendationService;
  feedback: FeedbackService;
  events: EventQueue;
  pool: ModelPool;
  /** Per API key: shared through the cache with `sharedState`, else this process's own. */
  limiter: RateLimiter;
  catalog: () => Catalog;
  /** Item writes (the item API): database, this catalog, then the catalog topic. */
  items: ItemService;
  /**
   * User data deletion and export. Deletions left pending (a crash) are resumed as the runtime
   * starts; `followCatalog` also follows the users topic.
   */
  users: UserDataService;
  /** Applies catalog changes (from the catalog topic, or this instance's own writes). */
  applyCatalog(items: CatalogItem[]): void;
  /** Reloads the catalog from the database, keeping the changes applied meanwhile. */
  reloadCatalog(): Promise<void>;
  /**
   * Follows the catalog topic (in consumer group `groupId`, unique to this process), so changes
   * written through any instance reach this one, and the users topic (group `groupId-users`), so
   * a user deleted through any instance is dropped from this one's memory; stopped by `close`.
   */
  followCatalog(groupId: string): Promise<void>;
  popularity: () => PopularityRanker;
  history: InteractionHistory;
  /** Reloads catalog and popularity, and reads the history the snapshots gained since the start. */
  refresh(): Promise<void>;
  /** True when something can answer: the popularity fallback holds items. */
  ready(): boolean;
  /** Flushes the event queue (bounded) and releases sessions; returns events left unpublished. */
  close(flushTimeoutMs?: number): Promise<number>;
}

/** Assembles the serving path from already-created clients (main.ts creates them from env). */
export async function createServingRuntime(deps: ServingRuntimeDeps): Promise<ServingRuntime> {
  const options = { ...defaultServingOptions, ...deps.options };
  const metrics = deps.metrics ?? new ServingMetrics();
  // No spinning: idle onnxruntime pool threads that spin steal the cores the event loop needs
  // (measured: uncached /recommend went from 5 % to 31–39 % of the bare route's req/s).
  // No CPU memory arena: the arena keeps every block it ever grew to and reuses it badly across
  // batch shapes — measured on the demo's item-kNN (a dense 9,125² graph), 150 batches grew the
  // process by 10.5 GB with the arena and by 0.26 GB without it (the scorer alone, 1–16 users).
  // No memory pattern: onnxruntime plans and keeps one block per input shape it has seen, and each
  // batch size is a new shape — measured on the demo's item-kNN, 20 runs of 2 users grew the
  // process by a median 215 MB with patterns and 102 MB without (5 runs each, interleaved).
  const sessionOptions = {
    enableCpuMemArena: false,
    enableMemPattern: false,
    intraOpNumThreads: options.inferenceThreads,
    interOpNumThreads: 1,
    executionMode: "sequential" as const,
    extra: {
      session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } },
    },
  };
  // Sessions run on their own thread unless the caller brings a loader (or asks for the event loop).
  const inferenceThread =
    deps.loader || !options.inferenceOnThread ? null : new InferenceThread({ sessionOptions });
  const directLoader: ModelLoader =
    deps.loader ??
    inferenceThread?.loader ??
    ((ref) => createScorer(ref.artifactPath, { sessionOptions }));
  // Versions in object storage are fetched and verified into the local cache before a load.
  const loader = deps.artifacts ? deps.artifacts.loader(directLoader) : directLoader;
  // The history (read by DuckDB on its own threads) loads while the catalog comes from the database
  // and popularity is counted; a failure surfaces where it is awaited, below.
  const historyLoading = InteractionHistory.fromSnapshots(deps.snapshotsRoot);
  historyLoading.catch(() => undefined);
  let catalog = await Catalog.load(deps.prisma);
  /** Changes applied while a reload reads the database: applied to the new catalog too. */
  let duringReload: CatalogItem[] | null = null;
  let subscription: CatalogSubscription | null = null;
  const applyCatalog = (items: CatalogItem[]) => {
    for (const item of items) catalog.apply(item);
    duringReload?.push(...items);
    popularity.addUnranked(items.map((item) => item.itemId));
  };
  const loadCatalog = async (): Promise<Catalog> => {
    const applied: CatalogItem[] = [];
    duringReload = applied;
    try {
      const next = await Catalog.load(deps.prisma);
      for (const item of applied) next.apply(item);
      return next;
    } finally {
      if (duringReload === applied) duringReload = null;
    }
  };
  let popularity = await PopularityRanker.fromSnapshots(deps.snapshotsRoot, catalog.ids());
  const history = await historyLoading;
  const pool = new ModelPool({ loader, metrics, capacity: options.modelCacheSize });
  const batcher = new InferenceBatcher(
    { windowMs: options.batchWindowMs, maxBatch: options.maxBatch },
    metrics,
  );
  const events = new EventQueue({
    bus: deps.bus,
    metrics,
    capacity: options.eventQueueCapacity,
    onError: (error) => deps.onError?.(error, "event bus publish"),
  });
  let resolver = deps.resolver;
  if (!resolver) {
    const stable = new StableModelResolver(new ModelVersionStore(deps.prisma));
    await stable.start(); // known before the first request, which never waits on the database for it
    resolver = stable;
  }
  const shared = options.sharedState ?? deps.cache.kind === "redis";
  const rateLimit = { ratePerSecond: options.rateLimitPerSecond, burst: options.rateLimitBurst };
  const recommendations = new RecommendationService({
    pool,
    batcher,
    resolver,
    popularity: () => popularity,
    history,
    catalog: () => catalog,
    cache: deps.cache,
    metrics,
    events,
    topics: deps.topics,
    routing: options.routing,
    cacheTtlMs: options.cacheTtlMs,
    sharedHistory: shared
      ? { ttlMs: options.sharedHistoryTtlMs ?? DEFAULT_SHARED_HISTORY_TTL_MS }
      : false,
    strategies:
      deps.strategies ??
      (options.newItemSlots
        ? [newItemsStrategy(options.newItemSlots), ...defaultStrategies]
        : undefined),
    maxFilterCandidates: options.maxFilterCandidates,
  });
  const users = new UserDataService({
    prisma: deps.prisma,
    cache: deps.cache,
    bus: deps.bus,
    topics: deps.topics,
    snapshotsRoot: deps.snapshotsRoot,
    history,
    recommendations,
    onError: deps.onError,
    ...deps.userDeletion,
  });
  // A deletion cut short by a crash finishes now, beside serving (it only removes data).
  void users
    .resumePending()
    .catch((error: Error) => deps.onError?.(error, "resuming user deletions"));
  const feedback = new FeedbackService({
    events,
    topics: deps.topics,
    history,
    recommendations,
    ack: options.feedbackAck,
    ackTimeoutMs: options.feedbackAckTimeoutMs,
  });
  return {
    metrics,
    recommendations,
    feedback,
    events,
    pool,
    limiter: shared
      ? new SharedRateLimiter(deps.cache, rateLimit, (error) =>
          deps.onError?.(error, "shared rate limit"),
        )
      : new TokenBucketLimiter(rateLimit),
    catalog: () => catalog,
    items: new ItemService({
      prisma: deps.prisma,
      bus: deps.bus,
      topics: deps.topics,
      applyLocally: applyCatalog,
    }),
    users,
    applyCatalog,
    async reloadCatalog() {
      catalog = await loadCatalog();
    },
    async followCatalog(groupId) {
      subscription = await subscribeCatalogChanges({
        bus: deps.bus,
        topic: deps.topics.catalog,
        groupId,
        apply: applyCatalog,
        resync: async () => {
          catalog = await loadCatalog();
        },
        onError: (error, what) => deps.onError?.(error, what),
      });
      await users.follow(`${groupId}-users`);
    },
    popularity: () => popularity,
    history,
    async refresh() {
      // Swapped in as soon as loaded: a change applied after the load reaches the new catalog.
      catalog = await loadCatalog();
      const nextPopularity = await PopularityRanker.fromSnapshots(
        deps.snapshotsRoot,
        catalog.ids(),
      );
      nextPopularity.addUnranked(catalog.ids()); // items created while it was counting
      popularity = nextPopularity;
      // What other instances were told, now in the snapshots: exclusion beyond the shared TTL.
      await history.catchUp(deps.snapshotsRoot);
    },
    ready: () => popularity.size > 0,
    async close(flushTimeoutMs = 5_000) {
      await subscription?.stop();
      await users.close();
      const left = await events.close(flushTimeoutMs);
      await pool.close();
      await inferenceThread?.close();
      return left;
    },
  };
}
