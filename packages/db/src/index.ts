export { openDatabase, type Database, type DbConfig, type OpenDbOptions } from "./client.ts";
export {
  applyMigrations,
  createMigration,
  migrationsUpToDate,
  pendingSchemaChange,
  type MigrateResult,
} from "./migrations.ts";
export * from "./generated/prisma/client.ts";
export * from "./repositories/model-versions.ts";
export * from "./repositories/metric-aggregates.ts";
export {
  EXPERIMENT_STAT_COUNTS,
  experimentStatCounts,
  type ExperimentStatCounts,
} from "./experiment-stats.ts";
