import { envFields, loadEnvOrExit } from "@reco/contracts";
import { z } from "zod";
import { storageEnvFields } from "@reco/storage/env";
import { defaultWorkerConfig as d } from "@reco/stream";
import { retrainingEnvFields } from "@reco/retraining";

const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The standalone worker's environment; every variable is optional. */
export const workerEnvSchema = z
  .object({
    KAFKA_BROKERS: envFields.kafkaBrokers,
    REDIS_URL: envFields.redisUrl,
    DATABASE_URL: envFields.databaseUrl,
    DATA_DIR: envFields.dataDir,
    TOPIC_PREFIX: envFields.topicPrefix,
    LOG_LEVEL: envFields.logLevel,
    /** /metrics and /healthz; 0 picks a free port. */
    WORKER_PORT: envFields.port.default(9464),
    /** Default `<DATA_DIR>/snapshots`. */
    SNAPSHOT_DIR: z.string().min(1).optional(),
    WORKER_GROUP_ID: z.string().min(1).default(d.groupId),
    BATCH_INTERVAL_MS: positive(d.batchIntervalMs),
    BATCH_MAX_RECORDS: positive(d.batchMaxRecords),
    FETCH_BATCH_SIZE: positive(d.fetchBatchSize),
    COMPACTION_INTERVAL_MS: ms(d.compactionIntervalMs),
    RETENTION_HOURS: z.coerce
      .number()
      .min(0)
      .default(d.retentionMs / 3_600_000),
    ATTRIBUTION_WINDOW_S: positive(d.attributionWindowMs / 1000),
    AGGREGATE_INTERVAL_MS: positive(d.aggregateIntervalMs),
    VALIDATION_THREADS: z.coerce.number().int().min(0).max(16).default(d.validationThreads),
    /** A SIGKILLed worker's partitions move to the others after this long (the broker's minimum is usually 6 s). */
    KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
    /** Embedded mode: read the api's event log without taking its writer lock (no dead-letter publishing). */
    EVENT_LOG_READ_ONLY: z.enum(["true", "false"]).default("false"),
    /** Scheduled retraining (with a database): RETRAIN_INTERVAL, RETRAIN_MODEL, … as in the api. */
    ...retrainingEnvFields,
    /** Object storage (S3_ENDPOINT, S3_BUCKET, …): snapshot files are uploaded there as written. */
    ...storageEnvFields,
  })
  .superRefine((env, ctx) => {
    // An hour of experiment statistics is recomputed from the files left whenever new events reach
    // back into it (the attribution window, and an hour of margin each side): its files must still
    // be there, or the hour would be recomputed empty.
    const minimumHours = env.ATTRIBUTION_WINDOW_S / 3600 + 2;
    if (env.RETENTION_HOURS > 0 && env.RETENTION_HOURS < minimumHours)
      ctx.addIssue({
        code: "custom",
        path: ["RETENTION_HOURS"],
        message: `must be 0 (keep everything) or at least the attribution window + 2 h (${minimumHours} h): files removed sooner could still be needed to recompute experiment statistics`,
      });
  });

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** The worker's variables, parsed once; a bad one prints one line naming it and exits 1. */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return loadEnvOrExit(workerEnvSchema, env);
}
