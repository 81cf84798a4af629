import { envFields, loadEnvOrExit, STREAM_WORKER_GROUP } from "@reco/contracts";
import {
  DEFAULT_AUTH_STALE_MS,
  DEFAULT_FEEDBACK_ACK_TIMEOUT_MS,
  DEFAULT_INFERENCE_THREADS,
  DEFAULT_MAX_BATCH,
} from "@reco/serving";
import { z } from "zod";
import { retrainingEnvFields } from "@reco/retraining";
import { storageEnvFields } from "@reco/storage/env";

const csv = z.string().transform((value) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean),
);

/** The in-process result cache's byte bound by default (CACHE_MAX_BYTES): 64 MiB. */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/** Every variable the api reads, parsed once here; nothing else touches process.env (lint). */
export const apiEnvSchema = z.object({
  PORT: envFields.port.default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: envFields.dataDir,
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl,
  KAFKA_BROKERS: envFields.kafkaBrokers,
  TOPIC_PREFIX: envFields.topicPrefix,
  /** The stream worker's consumer group (its WORKER_GROUP_ID): the overview reports its lag. */
  STREAM_WORKER_GROUP_ID: z.string().min(1).default(STREAM_WORKER_GROUP),
  LOG_LEVEL: envFields.logLevel,
  /** Browser origins allowed to call the api (comma-separated); the dashboard's origin. */
  CORS_ORIGINS: csv.default(["http://127.0.0.1:3000", "http://localhost:3000"]),
  /**
   * In-process result cache (no REDIS_URL): the most bytes its answers may hold (keys and JSON
   * values as UTF-8; the recent-item lists and shared sets have a budget of this size each). The
   * api's memory under load grows by about this much beyond its size at rest (bench/memory).
   */
  CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .max(64 * 1024 * 1024 * 1024)
    .default(DEFAULT_CACHE_MAX_BYTES),
  MODEL_CACHE_SIZE: z.coerce.number().int().min(1).max(32).default(3),
  /** onnxruntime intra-op threads per model session (spinning is off either way). */
  INFERENCE_THREADS: z.coerce.number().int().min(1).max(64).default(DEFAULT_INFERENCE_THREADS),
  /** Dynamic batching window in ms (0 disables batching). */
  BATCH_WINDOW_MS: z.coerce.number().min(0).max(2).default(1),
  BATCH_MAX: z.coerce.number().int().min(1).max(1024).default(DEFAULT_MAX_BATCH),
  EVENT_QUEUE_CAPACITY: z.coerce.number().int().min(1).default(10_000),
  /**
   * When POST /feedback answers 202: "durable" once the bus stored the events (fsync / acks=all);
   * "queued" once they are in memory — UNSAFE (a crash loses them), only for bench/feedback.
   */
  FEEDBACK_ACK: z.enum(["durable", "queued"]).default("durable"),
  /** Durable feedback: the longest a request waits for the bus before answering 503 + Retry-After. */
  FEEDBACK_ACK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(DEFAULT_FEEDBACK_ACK_TIMEOUT_MS),
  /**
   * While the database is unreachable, keys it confirmed within this long keep working from
   * memory (unknown keys get 503). 0 turns it off.
   */
  AUTH_STALE_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_AUTH_STALE_MS),
  RATE_LIMIT_RPS: z.coerce.number().positive().default(200),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(400),
  /**
   * Items created through the item API since the served model was trained lead a personalised
   * answer, up to this many, when their categories, tags or title words match the user's history
   * (the content model's TF-IDF cosine); 0 turns it off.
   */
  NEW_ITEM_SLOTS: z.coerce.number().int().min(0).max(100).default(2),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** On SIGTERM, keep serving (with /readyz 503) this long before closing, so load balancers move away. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** Embedded mode: how often the in-process stream worker writes its micro-batches. */
  STREAM_BATCH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Embedded mode: a dev admin key chosen by the launcher (so web and api share it); else one is generated. */
  DEV_API_KEY: z.string().optional(),
  ...retrainingEnvFields,
  /**
   * Object storage (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION,
   * S3_PREFIX): versions whose row points at the bucket are fetched once into
   * DATA_DIR/model-cache, verified, then served.
   */
  ...storageEnvFields,
});
export type ApiEnv = z.infer<typeof apiEnvSchema>;

export function loadApiEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  return loadEnvOrExit(apiEnvSchema, env);
}

/** What `prepare-demo.ts` reads (`npm start` runs it before the api, in its own process). */
export const prepareEnvSchema = z.object({
  DATABASE_URL: envFields.databaseUrl,
  DATA_DIR: envFields.dataDir,
  /** The MovieLens folder imported into an empty database. */
  DEMO_DATA_DIR: z.string().default("data/ml-latest-small"),
  /**
   * What the demo versions serve: `all` (refit on every rating after the held-out evaluation) or
   * `train` (the model fitted on the split's train side, as before: one fit per model, a shorter
   * first start).
   */
  DEMO_FIT_ON: z.enum(["all", "train"]).default("all"),
  /** `0`: no demo experiment on a fresh start (`1`, the default: iALS vs item-kNN, started once). */
  DEMO_EXPERIMENT: z.enum(["0", "1"]).default("1"),
});

export function loadPrepareEnv(
  env: NodeJS.ProcessEnv = process.env,
): z.infer<typeof prepareEnvSchema> {
  return loadEnvOrExit(prepareEnvSchema, env);
}
