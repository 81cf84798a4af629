import path from "node:path";
import type { StreamWorker } from "@reco/stream";
import { Kafka, logLevel } from "kafkajs";
import { expect, it } from "vitest";
import {
  kafkaTestFixture,
  sampleEvent,
  snapshotCounts,
  startWorkerUntilCommitted,
} from "./helpers.ts";

const fixture = kafkaTestFixture("gap", 1);
const { topics } = fixture;

/** Watch events number from..to-1 (sampleEvent(5i) is a watch). */
const publishWatches = (from: number, to: number) =>
  fixture.bus.publishBatch(
    topics.watch,
    Array.from({ length: to - from }, (_, i) => {
      const event = sampleEvent((from + i) * 5);
      return { key: event.userId, value: event };
    }),
  );

async function runWorkerUntilCommitted(): Promise<StreamWorker> {
  const worker = await startWorkerUntilCommitted(fixture);
  await worker.stop();
  fixture.worker = undefined;
  return worker;
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
    brokers: [fixture.brokers],
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
  expect(await snapshotCounts(path.join(fixture.dir, "snapshots"))).toEqual({
    rows: 15,
    distinct: 15,
  });
});
