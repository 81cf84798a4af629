import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { createStreamWorker, type StreamWorker } from "@reco/stream";
import { uniqueName, waitFor } from "@reco/testkit";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { allCommitted, consumed, quietLogger, sampleEvent, snapshotCounts } from "./helpers.ts";

const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  throw new Error(
    'KAFKA_BROKERS is not set: run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`',
  );
}

const topics = topicNames(uniqueName("gap"));
const groupId = uniqueName("gap-workers");
let dir: string;
let bus: EventBus;
let worker: StreamWorker | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gap-"));
  bus = await connectKafkaBus({ brokers, clientId: "gap-test" });
  await bus.ensureTopics(Object.values(topics), 1);
});
afterAll(async () => {
  await worker?.stop();
  await bus?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Watch events number from..to-1 (sampleEvent(5i) is a watch). */
const publishWatches = (from: number, to: number) =>
  bus.publishBatch(
    topics.watch,
    Array.from({ length: to - from }, (_, i) => {
      const event = sampleEvent((from + i) * 5);
      return { key: event.userId, value: event };
    }),
  );

async function runWorkerUntilCommitted(): Promise<StreamWorker> {
  worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger,
    config: { groupId, snapshotRoot: path.join(dir, "snapshots"), batchIntervalMs: 200 },
  });
  await worker.start();
  await waitFor(() => allCommitted(bus, groupId, consumed(topics)), {
    timeoutMs: 60_000,
    intervalMs: 250,
    description: "the worker to commit every record",
  });
  const done = worker;
  await done.stop();
  worker = undefined;
  return done;
}

async function missingCount(of: StreamWorker): Promise<number> {
  const { values } = await of.metrics.records.get();
  return values
    .filter(({ labels }) => labels.outcome === "missing" && labels.topic === topics.watch)
    .reduce((sum, { value }) => sum + value, 0);
}

it("real Kafka: records the broker deleted before the group read them are counted and logged as missing, the rest still land once", async () => {
  await publishWatches(0, 10);
  const first = await runWorkerUntilCommitted();
  expect(await missingCount(first)).toBe(0);

  // Offsets 10–19 arrive while no worker runs; the broker then drops 10–14 (as retention would).
  await publishWatches(10, 20);
  const admin = new Kafka({
    clientId: "gap-admin",
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    // kafkajs finds the partition leader in metadata it only loads on request.
    await admin.fetchTopicMetadata({ topics: [topics.watch] });
    await admin.deleteTopicRecords({
      topic: topics.watch,
      partitions: [{ partition: 0, offset: "15" }],
    });
  } finally {
    await admin.disconnect();
  }

  const second = await runWorkerUntilCommitted();
  expect(await missingCount(second)).toBe(5);
  expect(await snapshotCounts(path.join(dir, "snapshots"))).toEqual({ rows: 15, distinct: 15 });
});
