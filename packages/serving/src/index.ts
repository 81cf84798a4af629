export * from "./auth/index.ts";
export { createCatalogStats, type CatalogCounts, type CatalogStats } from "./stats.ts";
export { PopularityRanker, type PopularItem, type PopularityCounts } from "./popularity.ts";
export { ServingMetrics } from "./metrics.ts";
export {
  LoadedModel,
  ModelPool,
  modelKey,
  type ModelLoader,
  type ModelPoolOptions,
  type ModelRef,
  type Ranked,
  type ScoreRequest,
  type ServableModel,
} from "./model-pool.ts";
export { InferenceBatcher, type BatchingOptions } from "./batcher.ts";
export { InteractionHistory } from "./history.ts";
export { ItemDictionary, SeenItems, type SeenSet } from "./seen.ts";
export {
  Catalog,
  catalogItemOfChange,
  hasFilter,
  NO_FILTER,
  type CatalogItem,
  type ItemFilter,
} from "./catalog.ts";
export {
  subscribeCatalogChanges,
  type CatalogSubscription,
  type CatalogSubscriptionDeps,
} from "./catalog-sync.ts";
export {
  ItemService,
  MAX_BULK_ITEMS,
  itemPatchSchema,
  itemPutSchema,
  parseBulkBody,
  type BadRow,
  type ItemPatch,
  type ItemPut,
  type StoredItem,
} from "./items.ts";
export { FALLBACK_REASONS, isFallbackReason, type FallbackReason } from "./reasons.ts";
export {
  FixedModelResolver,
  ModelResolutionFailed,
  StableModelResolver,
  type ModelResolution,
  type ModelResolver,
} from "./resolver.ts";
export {
  SharedRateLimiter,
  TokenBucketLimiter,
  type RateDecision,
  type RateLimiter,
  type RateLimitOptions,
} from "./rate-limit.ts";
export {
  DeliveryTimeout,
  EventQueue,
  type EventKind,
  type EventQueueOptions,
  type QueuedEvent,
} from "./event-queue.ts";
export * from "./schemas.ts";
export { buildOpenApi } from "./openapi.ts";
export {
  DEFAULT_SHARED_HISTORY_TTL_MS,
  RecommendationService,
  sharedRecentKey,
  sharedSeenKey,
  type RecommendInput,
  type RecommendationServiceDeps,
  type RoutingOptions,
  type SharedHistoryOptions,
} from "./recommender.ts";
export {
  defaultStrategies,
  fallbackReason,
  foldInStrategy,
  popularityStrategy,
  StrategyError,
  warmModelStrategy,
  type RecommendStrategy,
  type StrategyContext,
} from "./strategies/index.ts";
export {
  DEFAULT_FEEDBACK_ACK_TIMEOUT_MS,
  FeedbackNotStored,
  FeedbackService,
  parseFeedbackBody,
  toInteractionEvent,
  type FeedbackAck,
} from "./feedback.ts";
export {
  createServingRuntime,
  defaultServingOptions,
  DEFAULT_INFERENCE_THREADS,
  DEFAULT_MAX_BATCH,
  type ServingOptions,
  type ServingRuntime,
  type ServingRuntimeDeps,
} from "./runtime.ts";
export {
  UnknownUser,
  UserDataService,
  type DeletionRecord,
  type DeletionStatus,
  type UserDataServiceDeps,
  type UserExport,
} from "./user-data.ts";
export {
  ArtifactCache,
  VerifiedModelResolver,
  type ArtifactCacheOptions,
  type RefusedVersion,
} from "./artifact-cache.ts";
