export {
  createStreamWorker,
  consumedTopics,
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
export type { DeadLetter } from "./dead-letters.ts";
export { measureIngestStages, type IngestStageCosts } from "./stage-costs.ts";
