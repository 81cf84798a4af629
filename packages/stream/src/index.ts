export { consumedTopics } from "@reco/contracts";
export {
  createStreamWorker,
  type StreamWorker,
  type StreamWorkerDeps,
  type WorkerHealth,
} from "./worker.ts";
export { defaultWorkerConfig, type WorkerConfig } from "./config.ts";
export {
  computeMinuteAggregates,
  upsertMinuteAggregates,
  type MinuteAggregate,
} from "./aggregates.ts";
export { FileTimeRanges } from "./file-times.ts";
export {
  computeUserHourStats,
  replaceUserHourStats,
  type ExperimentUserHourRow,
} from "./user-stats.ts";
export type { DeadLetter } from "./dead-letters.ts";
export { measureIngestStages, type IngestStageCosts } from "./stage-costs.ts";
export {
  CatalogPartitionCache,
  applyCatalogChange,
  catalogPartitionFile,
  parseCatalogChange,
  readCatalogPartition,
  writeCatalogPartition,
  type CatalogEntry,
} from "./catalog-snapshot.ts";
export type { CatalogFollowerHealth } from "./catalog-follower.ts";
