import { DEFAULT_FEATURE_KEY_PREFIX, STREAM_WORKER_GROUP } from "@reco/contracts";
/** Tunables of the stream worker; main.ts fills them from the environment, the api from its config. */
export interface WorkerConfig {
  /** Consumer group id shared by every worker instance of a deployment. */
  groupId: string;
  /** Root of the Parquet snapshot tree (`topic=…/date=…/hour=…/part-….parquet`). */
  snapshotRoot: string;
  /** A partition's micro-batch is written at the latest this long after its first record. */
  batchIntervalMs: number;
  /** …or as soon as it holds this many records, whichever comes first. */
  batchMaxRecords: number;
  /** Upper bound on records per delivery from the bus. */
  fetchBatchSize: number;
  /** How often closed hours are compacted; 0 disables compaction. */
  compactionIntervalMs: number;
  /** Snapshot hours older than this are deleted; 0 keeps everything. */
  retentionMs: number;
  /** A click/watch/rate counts for a recommendation when it follows the response within this window. */
  attributionWindowMs: number;
  /** Minute aggregates touched by new snapshots are recomputed at most this often. */
  aggregateIntervalMs: number;
  /** Recent items kept per user for serving. */
  recentItemsPerUser: number;
  /** Cache TTL of the real-time features. */
  featureTtlMs: number;
  /** Half-life of the trending scores. */
  trendingHalfLifeMs: number;
  /** Consumer lag is sampled this often for /metrics. */
  lagSampleIntervalMs: number;
  /** Threads validating records beside the main thread (0: validate inline). */
  validationThreads: number;
  /** Prefix of the real-time feature keys in the cache. */
  featureKeyPrefix: string;
}

export const defaultWorkerConfig: WorkerConfig = {
  groupId: STREAM_WORKER_GROUP,
  snapshotRoot: ".data/snapshots",
  batchIntervalMs: 30_000,
  batchMaxRecords: 50_000,
  fetchBatchSize: 5_000,
  compactionIntervalMs: 3_600_000,
  retentionMs: 30 * 24 * 3_600_000,
  attributionWindowMs: 3_600_000,
  aggregateIntervalMs: 15_000,
  recentItemsPerUser: 50,
  featureTtlMs: 7 * 24 * 3_600_000,
  trendingHalfLifeMs: 3_600_000,
  lagSampleIntervalMs: 10_000,
  validationThreads: 1,
  featureKeyPrefix: DEFAULT_FEATURE_KEY_PREFIX,
};
