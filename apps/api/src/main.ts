import path from "node:path";
import { collectGarbageSoon, collectGarbageWhenIdle } from "@reco/contracts";
import { openDatabase } from "@reco/db";
import { pino } from "pino";
import { storageEnvProblem } from "@reco/storage/env";
import { loadApiEnv } from "./env.ts";

// Composition root: the only place that reads the environment and creates clients.
/** Each start-up step and its time, printed on one line once listening (`npm start` shows it). */
const startupSteps: string[] = [`modules ${process.uptime().toFixed(2)} s`];
let stepStarted = performance.now();
function stepDone(what: string): void {
  const now = performance.now();
  startupSteps.push(`${what} ${((now - stepStarted) / 1000).toFixed(2)} s`);
  stepStarted = now;
}
const env = loadApiEnv();
const logger = pino({ level: env.LOG_LEVEL, base: { service: "api" } });
const storageProblem = storageEnvProblem(env);
if (storageProblem) {
  process.stderr.write(`invalid environment: ${storageProblem}\n`);
  process.exit(2);
}
const dataDir = path.resolve(env.DATA_DIR);
const snapshotsRoot = path.join(dataDir, "snapshots");

// A stop during start-up (migrations, loading) waits until start-up is done, then shuts down as
// usual: killing the process mid-migration could leave the embedded database half written.
let stopRequested: string | null = null;
const deferStop = (signal: string) => {
  stopRequested ??= signal;
  logger.info({ signal }, "stop requested during start-up; stopping as soon as it is done");
};
const onStartupSignal = {
  SIGINT: () => deferStop("SIGINT"),
  SIGTERM: () => deferStop("SIGTERM"),
};
process.on("SIGINT", onStartupSignal.SIGINT);
process.on("SIGTERM", onStartupSignal.SIGTERM);

/** Logs a recurring failure at most once per 10 s per kind, so a down service does not flood logs. */
const lastLogged = new Map<string, number>();
function logThrottled(what: string, error: Error): void {
  const now = Date.now();
  if ((lastLogged.get(what) ?? 0) > now - 10_000) return;
  lastLogged.set(what, now);
  logger.warn({ err: error.message, what }, `${what} failing`);
}

// The database opens (PGlite compiles and starts its WebAssembly) while the rest of the api's
// modules load: tsx transforms them on its loader thread meanwhile. The stream worker's and the
// rollout controller's modules load after listening, when they start (see below).
const [
  db,
  { createEventBus, pipelineMonitor },
  { createCache },
  { cacheNamespace, consumedTopics, telemetryTopics, topicNames },
  { MetricAggregateRepository, ModelVersionStore },
  { ExperimentAssigner, ExperimentModelResolver, ExperimentService },
  {
    AccountStore,
    ApiKeyStore,
    createCatalogStats,
    createServingRuntime,
    ensureDevApiKey,
    StableModelResolver,
    ArtifactCache,
    VerifiedModelResolver,
  },
  { RolloutModelResolver, RolloutRouting, RolloutService, announceTransitions, countTransitions },
  { servingRoutesDeps },
  { buildServer },
  { createRecommendationsPanel },
] = await Promise.all([
  openDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir,
    log: (message) => logger.debug({ component: "db" }, message),
    // A previous api still exiting (stopped or killed a moment ago) holds the embedded database
    // for a little while: wait for it briefly rather than fail a restart.
    lock: {
      waitMs: 15_000,
      onWait: (owner, waitMs) =>
        logger.warn(
          { owner, waitMs },
          "the embedded database is held by a previous process; waiting for it to exit",
        ),
    },
  }),
  import("@reco/bus"),
  import("@reco/cache"),
  import("@reco/contracts"),
  import("@reco/db"),
  import("@reco/experiments/store"),
  import("@reco/serving"),
  import("@reco/rollouts/store"),
  import("./routes/serving.ts"),
  import("./server.ts"),
  import("@reco/api-router"),
]);
logger.info({ database: db.kind }, "database open, migrations applied");
stepDone("database and modules");
const topics = topicNames(env.TOPIC_PREFIX);

const cache = await createCache(
  env.REDIS_URL
    ? {
        kind: "redis",
        url: env.REDIS_URL,
        namespace: cacheNamespace(env.TOPIC_PREFIX),
        onError: (e) => logThrottled("redis cache", e),
      }
    : { kind: "memory", maxEntries: 100_000, maxBytes: env.CACHE_MAX_BYTES },
);
if (cache.kind === "memory")
  process.stdout.write(
    `result cache: in-process, at most ${Math.round(env.CACHE_MAX_BYTES / 1024 / 1024)} MB (CACHE_MAX_BYTES)\n`,
  );
const bus = await createEventBus({
  kafkaBrokers: env.KAFKA_BROKERS,
  dataDir,
  clientId: "reco-api",
  logger,
  lazySyncTopics: telemetryTopics(topics),
});
await bus
  .ensureTopics(Object.values(topics))
  .catch((e: Error) => logThrottled("topic creation", e));
logger.info({ cache: cache.kind, bus: bus.kind }, "cache and event bus ready");
stepDone("cache and bus");

const keys = new ApiKeyStore(db.prisma, {
  staleMs: env.AUTH_STALE_MS,
  onStale: (error) => logThrottled("API key lookup (answering from last-known-good keys)", error),
});
const devKeyReady = env.DATABASE_URL
  ? Promise.resolve()
  : ensureDevApiKey(keys, path.join(dataDir, "dev-api-key"), env.DEV_API_KEY).then((devKey) => {
      process.stdout.write(
        // The key itself stays out of logs: only its public prefix and where it is saved.
        `development API key (admin): ${devKey.split("_").slice(0, 2).join("_")}_… saved in ${path.join(dataDir, "dev-api-key")}\n`,
      );
    });

// The one owner of model_versions: serving, experiments and the models router share it.
const models = new ModelVersionStore(db.prisma);
const experiments = new ExperimentService(db.prisma, models);
// Running experiments in memory, refreshed every few seconds; they decide the served version.
const assigner = new ExperimentAssigner(db.prisma, {
  onError: (e) => logThrottled("experiment refresh", e),
});
// The key, the running experiments and the serving state (catalog, popularity, the seen-items
// history — serving without it would recommend seen items) load side by side; see below.
const assignerStarted = assigner.start();

// Rollouts: every transition is logged and sent to the rollout's webhook (off the controller's path).
const rollouts = new RolloutService(db.prisma, models);
const webhooks = announceTransitions(rollouts, logger);
// Active rollouts in memory, reloaded every second: a stage change reaches every instance within it.
// A candidate is loaded before any user is routed to it (see RolloutRouting's `warm`).
const routing = new RolloutRouting(db.prisma, {
  onError: (e) => logThrottled("rollout refresh", e),
  warm: async (candidate) => serving.pool.get(candidate),
});

// Object storage (S3_ENDPOINT set): a version whose row points at the bucket is fetched once into
// DATA_DIR/model-cache and verified before it serves; a refused one leaves the previous serving.
// The embedded stream worker uploads its snapshot files there, and retraining reads them back.
const objectStorage = env.S3_ENDPOINT
  ? await import("@reco/storage").then(({ createObjectStorage }) =>
      createObjectStorage(env, path.join(dataDir, "objects")),
    )
  : undefined;
const artifacts = objectStorage
  ? new ArtifactCache({ storage: objectStorage, cacheDir: path.join(dataDir, "model-cache") })
  : undefined;
// Rollout(Experiment(Stable)): experiment users keep their arm; the rest may see a canary.
const stableResolver = new StableModelResolver(models, 1_000);
// The serving version is known before the first request, which then never waits on the database
// for it (a hung one held each /recommend of an api that had not answered one yet).
const stableResolverStarted = stableResolver.start();
const chainResolver = new RolloutModelResolver(
  routing,
  new ExperimentModelResolver(assigner, stableResolver),
);
const servingLoaded = createServingRuntime({
  prisma: db.prisma,
  resolver: artifacts
    ? new VerifiedModelResolver(chainResolver, artifacts, ({ ref, error, keptServing }) =>
        logger.error(
          {
            version: `${ref.name}@${ref.version}`,
            artifactPath: ref.artifactPath,
            err: (error as Error).message,
            keptServing: keptServing && `${keptServing.name}@${keptServing.version}`,
          },
          "model version refused: not served",
        ),
      )
    : chainResolver,
  artifacts,
  cache,
  bus,
  topics,
  snapshotsRoot,
  options: {
    modelCacheSize: env.MODEL_CACHE_SIZE,
    inferenceThreads: env.INFERENCE_THREADS,
    batchWindowMs: env.BATCH_WINDOW_MS,
    maxBatch: env.BATCH_MAX,
    eventQueueCapacity: env.EVENT_QUEUE_CAPACITY,
    feedbackAck: env.FEEDBACK_ACK,
    feedbackAckTimeoutMs: env.FEEDBACK_ACK_TIMEOUT_MS,
    rateLimitPerSecond: env.RATE_LIMIT_RPS,
    rateLimitBurst: env.RATE_LIMIT_BURST,
    newItemSlots: env.NEW_ITEM_SLOTS,
  },
  onError: (error, what) => logThrottled(what, error),
});
const [serving] = await Promise.all([
  servingLoaded,
  devKeyReady,
  assignerStarted,
  stableResolverStarted,
]);
countTransitions(rollouts, serving.metrics.registry);
await routing.start();
stepDone("key, experiments and serving state");
logger.info(
  {
    items: serving.catalog().size,
    popular: serving.popularity().size,
    users: serving.history.users,
  },
  "serving state loaded",
);
// Embedded mode: this process also hosts the stream worker over the file-backed log (PGlite and
// the log allow one process); with Kafka the worker runs as its own app (apps/stream-worker). It
// and the rollout controller beside it start once the api listens (see the end).
const embeddedWorker = bus.kind === "file-log";
let streamWorker: { start(): Promise<void>; stop(): Promise<void> } | null = null;
let controller: { start(): void; stop(): Promise<void> } | null = null;
// Retraining: any instance shows runs and queues one; the scheduler (beside the rollout controller)
// holds the `retraining` lease and trains, here in embedded mode (PGlite allows one process).
const { RetrainingRuns, RetrainingScheduler, retrainingConfigFromEnv, retrainingRunsCounter } =
  await import("@reco/retraining");
const retraining = new RetrainingRuns(db.prisma, { intervalMs: env.RETRAIN_INTERVAL });
const retrainingRuns = retrainingRunsCounter(serving.metrics.registry);
let retrainer: { start(): void; stop(): Promise<void> } | null = null;
// Popularity and the catalog follow new data without a restart.
const refresher = setInterval(() => {
  serving.refresh().catch((e: Error) => logThrottled("popularity refresh", e));
}, 5 * 60_000);
refresher.unref();

let closing = false;
const app = await buildServer({
  logger,
  authenticator: keys,
  services: {
    stats: createCatalogStats({ prisma: db.prisma, snapshotsRoot }),
    apiKeys: keys,
    accounts: new AccountStore(db.prisma),
    experiments,
    models,
    artifacts,
    rollouts,
    retraining,
    monitoring: new MetricAggregateRepository(db.prisma),
    pipeline: pipelineMonitor(bus, {
      groupId: env.STREAM_WORKER_GROUP_ID,
      topics: consumedTopics(topics),
      deadLetterTopic: topics.dlq,
    }),
    recommendations: createRecommendationsPanel({
      runtime: serving,
      versions: models,
      cache,
      bus,
      topics,
      sharedHistory: cache.kind === "redis", // as the runtime's sharedState default
    }),
  },
  readiness: {
    database: () => db.ping(),
    model: async () => serving.ready(),
    accepting: async () => !closing,
  },
  corsOrigins: env.CORS_ORIGINS,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
  serving: servingRoutesDeps(serving, keys),
  experiments: { authenticator: keys, assigner, experiments, limiter: serving.limiter },
});

async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, "shutting down: no new connections, draining in-flight requests");
  const force = setTimeout(() => {
    logger.error("shutdown took too long; exiting");
    process.exit(1);
  }, env.SHUTDOWN_GRACE_MS + 15_000);
  force.unref();
  try {
    clearInterval(refresher);
    assigner.close();
    routing.close();
    await controller?.stop(); // gives the lease up for another controller
    await retrainer?.stop(); // a run in progress ends failed ("stopped"), registering nothing
    // Not ready any more, but still serving: requests already on their way are answered.
    await new Promise((resolve) => setTimeout(resolve, env.SHUTDOWN_GRACE_MS));
    await app.close(); // stops accepting, waits for in-flight requests
    const unpublished = await serving.close(5_000); // flushes the event queue to the bus
    if (unpublished > 0) logger.error({ unpublished }, "events could not be published before exit");
    await streamWorker?.stop(); // writes the open micro-batches, then commits
    await webhooks.close();
    await bus.close();
    await cache.close();
    await db.close();
    await objectStorage?.close();
  } catch (error) {
    logger.error({ err: error }, "error during shutdown");
  } finally {
    clearTimeout(force);
  }
  process.exit(0);
}
// A stop asked for before listening is honoured without listening; one asked for while the stream
// worker starts (after listening) waits for that start, then shuts down as usual.
if (stopRequested) {
  process.off("SIGINT", onStartupSignal.SIGINT);
  process.off("SIGTERM", onStartupSignal.SIGTERM);
  await shutdown(stopRequested);
}

const address = await app.listen({ port: env.PORT, host: env.HOST });
stepDone("server");
// Item changes written through any instance reach this one (a group of its own; see followCatalog).
serving
  .followCatalog(`reco-api-catalog-${process.pid}-${Date.now().toString(36)}`)
  .catch((e: Error) => logThrottled("catalog subscription", e));
process.stdout.write(
  `api listening on ${address} (tRPC at ${address}/trpc, OpenAPI at ${address}/openapi.json)\n` +
    `api started in ${process.uptime().toFixed(2)} s: ${startupSteps.join(", ")}\n`,
);
// The stream worker and the rollout controller start once the api listens: serving does not need
// them (events wait on the bus until the worker reads them), so readiness does not wait on them.
// The rollout controller runs beside the stream worker: here in embedded mode, in
// apps/stream-worker with Kafka. A database lease makes one of any number of controllers the
// acting leader.
if (embeddedWorker && !closing) {
  const workerStarting = performance.now();
  const [{ createStreamWorker }, { RolloutController }] = await Promise.all([
    import("@reco/stream"),
    import("@reco/rollouts/store"),
  ]);
  streamWorker = createStreamWorker({
    bus,
    topics,
    logger: logger.child({ component: "stream-worker" }),
    cache,
    prisma: db.prisma,
    registry: serving.metrics.registry,
    storage: objectStorage,
    config: {
      groupId: env.STREAM_WORKER_GROUP_ID,
      snapshotRoot: snapshotsRoot,
      batchIntervalMs: env.STREAM_BATCH_INTERVAL_MS,
    },
  });
  controller = new RolloutController(db.prisma, rollouts, {
    logger: logger.child({ component: "rollout-controller" }),
  });
  await streamWorker.start();
  process.stdout.write(
    `embedded stream worker started in ${((performance.now() - workerStarting) / 1000).toFixed(2)} s (after listening)\n`,
  );
  controller.start();
  retrainer = new RetrainingScheduler(
    db.prisma,
    retrainingConfigFromEnv(env, {
      snapshotsDir: snapshotsRoot,
      registryDir: path.join(dataDir, "registry"),
    }),
    { rollouts, logger: logger.child({ component: "retraining" }), runsCounter: retrainingRuns },
  );
  retrainer.start();
}
// Start-up's garbage (the history's and catalog's loading, module sources) goes now, not at the
// first busy spell, and what later work leaves (model loads, bursts of requests) once the process
// is quiet again: RSS at rest is what serving holds.
collectGarbageSoon();
collectGarbageWhenIdle();
process.off("SIGINT", onStartupSignal.SIGINT);
process.off("SIGTERM", onStartupSignal.SIGTERM);
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
if (stopRequested) await shutdown(stopRequested);
