export {
  RetrainingScheduler,
  retrainingRunsCounter,
  type RetrainingConfig,
  type RetrainingSchedulerOptions,
  type RetrainingTick,
  type RunOutcome,
} from "./scheduler.ts";
export {
  RETRAINING_LEASE,
  RetrainingRuns,
  type RetrainingRunView,
  type RetrainingStatus,
  type RunTrigger,
} from "./runs.ts";
export { parseRetrainInterval } from "./interval.ts";
export { retrainingConfigFromEnv, retrainingEnvFields, type RetrainingEnv } from "./env.ts";
