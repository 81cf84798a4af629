import { consumerLag, type BusConsumer, type EventBus } from "@reco/bus";
import type { Cache } from "@reco/cache";
import { consumedTopics, type TopicNames } from "@reco/contracts";
import type { PrismaClient } from "@reco/db";
import {
  compactSnapshots,
  removeSnapshotObjects,
  uploadSnapshots,
  removeExpiredSnapshots,
  removeStaleTempFiles,
  resolveOverlaps,
  type QuarantineOptions,
} from "@reco/snapshots";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ObjectStorage } from "@reco/storage";
import { AggregateRunner } from "./aggregate-runner.ts";
import { CatalogFollower, type CatalogFollowerHealth } from "./catalog-follower.ts";
import { defaultWorkerConfig, type WorkerConfig } from "./config.ts";
import { updateFeatures } from "./features.ts";
import { SnapshotIngest, type FlushedBatch } from "./ingest.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { ValidationPool } from "./validation-pool.ts";

export interface StreamWorkerDeps {
  bus: EventBus;
  topics: TopicNames;
  logger: Logger;
  config?: Partial<WorkerConfig>;
  /** Real-time features go here; without a cache they are not computed. */
  cache?: Cache;
  /** Per-minute aggregates go here; without a database they are not computed. */
  prisma?: PrismaClient;
  /** The api passes its own registry in embedded mode. */
  registry?: Registry;
  /**
   * S3 mode: each snapshot file is uploaded here before its offsets are committed, and compaction
   * and retention replace and remove the objects as they do the files (@reco/snapshots' objects).
   */
  storage?: ObjectStorage;
}

export interface WorkerHealth {
  status: "ok" | "starting" | "restarting" | "stopped";
  kind: EventBus["kind"];
  assignedPartitions: number;
  /** "topic/partition" of each partition this worker holds. */
  partitions: string[];
  /** Records consumed and not yet written to a snapshot. */
  bufferedRecords: number;
  lastCommitAt: string | null;
  consumerRestarts: number;
  /** The catalog snapshot's own consumer (its partitions, changes applied, dead letters). */
  catalog: CatalogFollowerHealth;
}

export interface StreamWorker {
  readonly config: WorkerConfig;
  readonly metrics: WorkerMetrics;
  /** Joins the group; resolves once the first assignment is in. */
  start(): Promise<void>;
  /** Writes and commits everything buffered. */
  flush(): Promise<void>;
  /** Graceful shutdown: flush, commit, leave the group, last aggregate run. */
  stop(): Promise<void>;
  health(): WorkerHealth;
}

export function createStreamWorker(deps: StreamWorkerDeps): StreamWorker {
  const config: WorkerConfig = { ...defaultWorkerConfig, ...deps.config };
  const { bus, logger, topics } = deps;
  const metrics = createWorkerMetrics(deps.registry);
  const quarantine: QuarantineOptions = {
    onQuarantine: ({ file, movedTo, reason }) => {
      metrics.maintenance.inc({ reason: "quarantined" });
      logger.error({ file, movedTo, reason }, "unreadable snapshot file moved to the quarantine");
    },
  };
  const subscribed = consumedTopics(topics);
  const aggregates = deps.prisma
    ? new AggregateRunner(
        deps.prisma,
        config,
        { responses: topics.responses, interactions: [topics.watch, topics.rate, topics.click] },
        metrics,
        logger,
        quarantine,
      )
    : null;
  // The catalog has a group of its own: its batches rewrite a state file, not append event files.
  const catalog = new CatalogFollower({
    bus,
    topic: topics.catalog,
    dlqTopic: topics.dlq,
    groupId: `${config.groupId}.catalog`,
    snapshotRoot: config.snapshotRoot,
    logger,
    maxBatchSize: config.fetchBatchSize,
  });
  let status: WorkerHealth["status"] = "starting";
  let lastCommitAt: Date | null = null;
  let restarts = 0;
  let consumer: BusConsumer | null = null;
  const timers: NodeJS.Timeout[] = [];

  const beforeCommit = async (batches: FlushedBatch[]) => {
    // An upload that fails fails the batch: its offsets are not committed and it is redelivered
    // (the local file is already there, so only the upload is redone).
    if (deps.storage) {
      const files = batches.flatMap((batch) => (batch.file ? [batch.file] : []));
      await uploadSnapshots(deps.storage, config.snapshotRoot, files);
    }
    for (const batch of batches) aggregates?.note(batch.topic, batch.events);
    lastCommitAt = new Date();
  };
  // The features' Redis time overlaps the next cut's write; the commit still waits for them.
  const alongsideNextWrite = async (batches: FlushedBatch[]) => {
    if (deps.cache) {
      try {
        await updateFeatures(
          deps.cache,
          batches.flatMap((batch) => batch.features),
          {
            keyPrefix: config.featureKeyPrefix,
            recentItemsPerUser: config.recentItemsPerUser,
            ttlMs: config.featureTtlMs,
            trendingHalfLifeMs: config.trendingHalfLifeMs,
          },
        );
      } catch (error) {
        // Features are a serving optimisation: a cache outage must not stall ingestion.
        logger.warn({ err: error }, "real-time features not updated");
      }
    }
  };

  const validation = ValidationPool.create(config.validationThreads);
  const ingest = new SnapshotIngest({
    validation,
    bus,
    snapshotRoot: config.snapshotRoot,
    dlqTopic: topics.dlq,
    batchIntervalMs: config.batchIntervalMs,
    batchMaxRecords: config.batchMaxRecords,
    metrics,
    logger,
    keepEvents: Boolean(aggregates),
    keepFeatures: Boolean(deps.cache),
    beforeCommit,
    alongsideNextWrite,
    onFailure: (error, failed) =>
      restart(
        failed,
        error,
        "snapshot write failed; restarting the consumer from the committed offsets",
      ),
  });

  /** Leaves the group (if the member has not already) and rejoins; what was not committed is redelivered. */
  function restart(member: BusConsumer, error: Error, message: string): void {
    if (status === "stopped" || member !== consumer) return;
    logger.error({ err: error }, message);
    status = "restarting";
    restarts++;
    consumer = null;
    void member
      .stop()
      .catch((stopError: unknown) =>
        logger.warn({ err: stopError }, "consumer did not stop cleanly"),
      )
      .then(rejoin);
  }

  async function join(): Promise<void> {
    const member = bus.consumer({
      groupId: config.groupId,
      topics: subscribed,
      maxBatchSize: config.fetchBatchSize,
      onPartitionsAssigned: (partitions) => ingest.assign(partitions),
      onPartitionsRevoked: (partitions) => ingest.revoke(partitions),
      onCrash: (error) =>
        restart(member, error, "consumer stopped; rejoining from the committed offsets"),
    });
    consumer = member;
    await ingest.reset(member);
    await member.run((batch) => ingest.handle(batch));
    if (status !== "stopped") status = "ok";
  }

  /** Rejoins until it works (the broker may be down for a while), unless stopped meanwhile. */
  async function rejoin(): Promise<void> {
    for (let attempt = 1; status === "restarting"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * attempt)));
      if (status !== "restarting") return;
      try {
        await join();
        return;
      } catch (error) {
        consumer = null;
        logger.warn({ err: error, attempt }, "joining the consumer group failed; retrying");
      }
    }
  }

  function every(ms: number, task: () => Promise<unknown>, what: string): void {
    if (ms <= 0) return;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((error) => logger.error({ err: error }, `${what} failed`))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    timers.push(timer);
  }

  async function sampleLag(): Promise<void> {
    for (const topic of subscribed) {
      const [committed, end] = await Promise.all([
        bus.committedOffsets(config.groupId, topic),
        bus.endOffsets(topic),
      ]);
      for (const { partition, offset } of consumerLag(committed, end)) {
        metrics.lag.set({ topic, partition: String(partition) }, Number(offset));
      }
    }
  }

  /** Temp files younger than this may belong to a write in progress in another worker. */
  const TEMP_FILE_MAX_AGE_MS = 10 * 60_000;

  async function maintain(): Promise<void> {
    const temps = await removeStaleTempFiles(config.snapshotRoot, TEMP_FILE_MAX_AGE_MS);
    metrics.maintenance.inc({ reason: "temp" }, temps.length);
    const compacted = await compactSnapshots(config.snapshotRoot, quarantine);
    metrics.maintenance.inc({ reason: "compacted" }, compacted.removed.length);
    if (deps.storage) {
      // the merged file first, so the bucket never lacks the events of the parts it replaces
      await uploadSnapshots(deps.storage, config.snapshotRoot, compacted.written);
      await removeSnapshotObjects(deps.storage, config.snapshotRoot, compacted.removed);
    }
    if (config.retentionMs > 0) {
      const expired = await removeExpiredSnapshots(config.snapshotRoot, {
        olderThan: new Date(Date.now() - config.retentionMs),
      });
      metrics.maintenance.inc({ reason: "retention" }, expired.length);
      if (deps.storage) await removeSnapshotObjects(deps.storage, config.snapshotRoot, expired);
    }
  }

  return {
    config,
    metrics,
    async start() {
      const { removed, conflicts } = await resolveOverlaps(config.snapshotRoot);
      if (removed.length)
        logger.warn({ removed }, "removed snapshot files left over by an interrupted compaction");
      if (conflicts.length)
        logger.error({ conflicts }, "overlapping snapshot files need attention");
      await removeStaleTempFiles(config.snapshotRoot, TEMP_FILE_MAX_AGE_MS);
      await aggregates?.recover();
      await validation.ready();
      try {
        await join();
      } catch (error) {
        logger.warn({ err: error }, "joining the consumer group failed; retrying");
        consumer = null;
        status = "restarting";
        await rejoin();
      }
      if (status === "stopped") return;
      status = "ok";
      catalog.start();
      every(
        Math.min(1_000, Math.max(50, config.batchIntervalMs / 4)),
        () => ingest.flushDue(),
        "timed flush",
      );
      every(config.lagSampleIntervalMs, sampleLag, "lag sampling");
      every(config.compactionIntervalMs, maintain, "compaction");
      if (aggregates) every(config.aggregateIntervalMs, () => aggregates.run(), "aggregates");
    },
    flush: () => ingest.flushAll(),
    async stop() {
      if (status === "stopped") return;
      for (const timer of timers) clearInterval(timer);
      const member = consumer;
      if (member)
        await ingest.flushAll().catch((error: unknown) =>
          // Not committed either: the group redelivers them to the next worker.
          logger.error({ err: error }, "buffered records could not be written at stop"),
        );
      status = "stopped";
      await member?.stop();
      await catalog.stop();
      await validation.close();
      await aggregates?.run();
    },
    health() {
      return {
        status,
        kind: bus.kind,
        assignedPartitions: ingest.held().length,
        partitions: ingest.held().map(({ topic, partition }) => `${topic}/${partition}`),
        bufferedRecords: ingest.buffered(),
        lastCommitAt: lastCommitAt?.toISOString() ?? null,
        consumerRestarts: restarts,
        catalog: catalog.health(),
      };
    },
  };
}
