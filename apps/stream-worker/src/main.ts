/**
 * Standalone stream worker: builds the adapters the environment names, starts the worker and its
 * /metrics + /healthz server, and shuts down gracefully (flush, commit, leave) on SIGTERM/SIGINT.
 */
import path from "node:path";
import { BusUnavailable, connectKafkaBus, openFileLogBus, type EventBus } from "@reco/bus";
import { createCache, type Cache } from "@reco/cache";
import { cacheNamespace, topicNames } from "@reco/contracts";
import { openDatabase, type Database } from "@reco/db";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { storageEnvProblem } from "@reco/storage/env";
import { loadWorkerEnv } from "./env.ts";
import { startWorkerHttp } from "./http.ts";
import {
  announceTransitions,
  countTransitions,
  RolloutController,
  RolloutService,
} from "@reco/rollouts/store";
import { createStreamWorker } from "@reco/stream";
import {
  RetrainingScheduler,
  retrainingConfigFromEnv,
  retrainingRunsCounter,
} from "@reco/retraining";

const env = loadWorkerEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { app: "stream-worker" } });
const storageProblem = storageEnvProblem(env);
if (storageProblem) {
  process.stderr.write(`invalid environment: ${storageProblem}\n`);
  process.exit(2);
}
// S3 mode: snapshot files go to the bucket too, before their offsets are committed.
const storage = env.S3_ENDPOINT
  ? (await import("@reco/storage")).createObjectStorage(env, path.join(env.DATA_DIR, "objects"))
  : undefined;
const topics = topicNames(env.TOPIC_PREFIX);

// Until the worker runs, a stop signal just ends the process: nothing has been committed yet, and a
// stop at any point is safe by design (files are reconciled with offsets at the next start). From
// then on it is a graceful shutdown (flush, commit, leave the group).
let onStopSignal: (signal: string) => void = (signal) => {
  logger.info({ signal }, "stopped during start-up");
  process.exit(0);
};
process.on("SIGTERM", () => onStopSignal("SIGTERM"));
process.on("SIGINT", () => onStopSignal("SIGINT"));

/** Retries while a service is unreachable at start (a broker restarting), instead of exiting. */
async function untilConnected<T>(what: string, connect: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (!(error instanceof BusUnavailable) || attempt >= 60) throw error;
      logger.warn({ err: error, attempt }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * attempt)));
    }
  }
}

const brokers = env.KAFKA_BROKERS;
const bus: EventBus = brokers
  ? await untilConnected("connecting to Kafka", () =>
      connectKafkaBus({
        brokers,
        clientId: "reco-stream-worker",
        logger,
        consumerTiming: {
          sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
          heartbeatIntervalMs: Math.max(500, Math.floor(env.KAFKA_SESSION_TIMEOUT_MS / 10)),
          rebalanceTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
        },
      }),
    )
  : await openFileLogBus({
      dir: path.join(env.DATA_DIR, "events"),
      readOnly: env.EVENT_LOG_READ_ONLY === "true",
      logger,
    });
// The api's namespace: serving reads the real-time features this worker writes.
const cache: Cache | undefined = env.REDIS_URL
  ? await createCache({
      kind: "redis",
      url: env.REDIS_URL,
      namespace: cacheNamespace(env.TOPIC_PREFIX),
    })
  : undefined;
// PGlite belongs to the embedded api process; the standalone worker writes aggregates only to PostgreSQL.
const db: Database | undefined = env.DATABASE_URL
  ? await openDatabase({ databaseUrl: env.DATABASE_URL, migrate: false })
  : undefined;

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const worker = createStreamWorker({
  bus,
  topics,
  logger,
  cache,
  prisma: db?.prisma,
  registry,
  storage,
  config: {
    groupId: env.WORKER_GROUP_ID,
    snapshotRoot: env.SNAPSHOT_DIR ?? path.join(env.DATA_DIR, "snapshots"),
    batchIntervalMs: env.BATCH_INTERVAL_MS,
    batchMaxRecords: env.BATCH_MAX_RECORDS,
    fetchBatchSize: env.FETCH_BATCH_SIZE,
    compactionIntervalMs: env.COMPACTION_INTERVAL_MS,
    retentionMs: env.RETENTION_HOURS * 3_600_000,
    attributionWindowMs: env.ATTRIBUTION_WINDOW_S * 1000,
    aggregateIntervalMs: env.AGGREGATE_INTERVAL_MS,
    validationThreads: env.VALIDATION_THREADS,
  },
});
// The rollout controller runs beside the worker whenever there is a database: a lease in it makes
// exactly one controller (of any number of workers and embedded apis) the acting leader.
const rollouts = db ? new RolloutService(db.prisma) : null;
const webhooks = rollouts ? announceTransitions(rollouts, logger) : null;
if (rollouts) countTransitions(rollouts, registry);
const controller =
  db && rollouts
    ? new RolloutController(db.prisma, rollouts, {
        logger: logger.child({ component: "rollout-controller" }),
      })
    : null;
// The retraining scheduler too: the `retraining` lease makes one of them (workers, embedded apis)
// train at a time; versions go to the bucket with S3_ENDPOINT set, else to <DATA_DIR>/registry,
// which the apis must then see at the same path.
const retrainer =
  db && rollouts
    ? new RetrainingScheduler(
        db.prisma,
        retrainingConfigFromEnv(env, {
          snapshotsDir: env.SNAPSHOT_DIR ?? path.join(env.DATA_DIR, "snapshots"),
          registryDir: path.resolve(env.DATA_DIR, "registry"),
        }),
        {
          rollouts,
          logger: logger.child({ component: "retraining" }),
          runsCounter: retrainingRunsCounter(registry),
        },
      )
    : null;
const http = await startWorkerHttp({
  port: env.WORKER_PORT,
  registry,
  health: () => worker.health(),
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping: flushing and committing");
  try {
    await controller?.stop(); // gives the lease up for another controller
    await retrainer?.stop(); // a run in progress ends failed ("stopped"), registering nothing
    await worker.stop();
    await webhooks?.close();
    http.close();
    await bus.close();
    await cache?.close();
    await db?.close();
    await storage?.close();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}

if (env.EVENT_LOG_READ_ONLY !== "true") {
  await untilConnected("creating topics", () => bus.ensureTopics(Object.values(topics)));
}
await worker.start();
controller?.start();
retrainer?.start();
onStopSignal = (signal) => void shutdown(signal);
logger.info(
  { port: http.port, bus: bus.kind, snapshots: worker.config.snapshotRoot },
  "stream worker running",
);
