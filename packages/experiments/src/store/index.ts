export { ExperimentService, KNOWN_STRATEGIES } from "./service.ts";
export { type ExperimentRecord } from "./rows.ts";
export {
  outcomeSchema,
  recordExposure,
  recordOutcome,
  variantStats,
  USER_STAT_METRICS,
  type ExposureRecord,
  type Outcome,
} from "./user-stats.ts";
export {
  ExperimentAssigner,
  type ExperimentAssignerOptions,
  type ServedAssignment,
  type ServedModelRef,
  type Serves,
} from "./assigner.ts";
export { ExperimentModelResolver, type ExperimentResolution } from "./model-resolver.ts";
export { isDatabaseLoss, unlessDatabaseLost } from "./database-loss.ts";
