import path from "node:path";
import type { StreamWorker } from "@reco/stream";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  kafkaTestFixture,
  sampleEvent,
  snapshotCounts,
  startWorkerUntilCommitted,
  type KafkaTestFixture,
} from "./helpers.ts";

/** Watch events number from..to-1 (sampleEvent(5i) is a watch). */
const publishWatches = (fixture: KafkaTestFixture, from: number, to: number) =>
  fixture.bus.publishBatch(
    fixture.topics.watch,
    Array.from({ length: to - from }, (_, i) => {
      const event = sampleEvent((from + i) * 5);
      return { key: event.userId, value: event };
    }),
  );

async function runWorkerUntilCommitted(fixture: KafkaTestFixture): Promise<StreamWorker> {
  const worker = await startWorkerUntilCommitted(fixture);
  await worker.stop();
  fixture.worker = undefined;
  return worker;
}

async function missingCount(fixture: KafkaTestFixture, of: StreamWorker): Promise<number> {
  const { values } = await of.metrics.records.get();
  return values
    .filter(({ labels }) => labels.outcome === "missing" && labels.topic === fixture.topics.watch)
    .reduce((sum, { value }) => sum + value, 0);
}

/** The broker drops partition 0's records below `offset`, as retention would. */
async function deleteBelow(fixture: KafkaTestFixture, offset: number): Promise<void> {
  const admin = new Kafka({
    clientId: "gap-admin",
    brokers: [fixture.brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    // kafkajs finds the partition leader in metadata it only loads on request.
    await admin.fetchTopicMetadata({ topics: [fixture.topics.watch] });
    await admin.deleteTopicRecords({
      topic: fixture.topics.watch,
      partitions: [{ partition: 0, offset: String(offset) }],
    });
  } finally {
    await admin.disconnect();
  }
}

const snapshots = (fixture: KafkaTestFixture) =>
  snapshotCounts(path.join(fixture.dir, "snapshots"));

describe("records deleted before the group read them", () => {
  const fixture = kafkaTestFixture("gap", 1);

  it("real Kafka: records the broker deleted before the group read them are counted and logged as missing, the rest still land once", async () => {
    await publishWatches(fixture, 0, 10);
    const first = await runWorkerUntilCommitted(fixture);
    expect(await missingCount(fixture, first)).toBe(0);

    // Offsets 10–19 arrive while no worker runs; the broker then drops 10–14.
    await publishWatches(fixture, 10, 20);
    await deleteBelow(fixture, 15);

    const second = await runWorkerUntilCommitted(fixture);
    expect(await missingCount(fixture, second)).toBe(5);
    expect(await snapshots(fixture)).toEqual({ rows: 15, distinct: 15 });
  });
});

describe("a gap right after the first offset", () => {
  const fixture = kafkaTestFixture("gap-first", 1);

  it("real Kafka: with only offset 0 handled, the deleted offsets after it are missing too", async () => {
    await publishWatches(fixture, 0, 1);
    const first = await runWorkerUntilCommitted(fixture);
    expect(await missingCount(fixture, first)).toBe(0);

    await publishWatches(fixture, 1, 10);
    await deleteBelow(fixture, 5);

    const second = await runWorkerUntilCommitted(fixture);
    expect(await missingCount(fixture, second)).toBe(4);
    expect(await snapshots(fixture)).toEqual({ rows: 6, distinct: 6 });
  });
});

describe("a group that starts after the broker dropped the start of the topic", () => {
  const fixture = kafkaTestFixture("gap-start", 1);

  it("real Kafka: nothing was ever read, so nothing is reported missing: the group starts where the log does", async () => {
    await publishWatches(fixture, 0, 10);
    await deleteBelow(fixture, 5);

    const worker = await runWorkerUntilCommitted(fixture);
    expect(await missingCount(fixture, worker)).toBe(0);
    expect(await snapshots(fixture)).toEqual({ rows: 5, distinct: 5 });
  });
});
