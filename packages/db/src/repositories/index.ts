export {
  MANUAL_STAGES,
  ModelVersionNotFound,
  ModelVersionRepository,
  type ManualStage,
  type ModelVersionSummary,
  type TrainingRunSummary,
} from "./model-versions.ts";
export {
  MetricAggregateRepository,
  rollUpAggregates,
  type AggregateRow,
  type MinutePoint,
  type MonitoringWindow,
  type Series,
  type WindowTotals,
} from "./metric-aggregates.ts";
