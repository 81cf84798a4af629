import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { uniqueName, waitFor } from "@reco/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createStreamWorker, type StreamWorker } from "@reco/stream";
import { publishEvents, quietLogger, sharedKafkaBrokers, snapshotCounts } from "./helpers.ts";

const brokers = sharedKafkaBrokers();

const prefix = uniqueName("grp");
const topics = topicNames(prefix);
const groupId = uniqueName("workers");
const timing = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 10_000,
  maxWaitTimeMs: 200,
};
let dir: string;
let producer: EventBus;
const buses: EventBus[] = [];
const workers: StreamWorker[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "group-"));
  producer = await connectKafkaBus({ brokers, clientId: "group-test-producer" });
  await producer.ensureTopics(Object.values(topics), 3);
});
afterAll(async () => {
  for (const worker of workers) await worker.stop().catch(() => undefined);
  for (const bus of [...buses, producer]) await bus?.close();
  await rm(dir, { recursive: true, force: true });
});

async function startWorker(name: string): Promise<StreamWorker> {
  const bus = await connectKafkaBus({ brokers: brokers!, clientId: name, consumerTiming: timing });
  buses.push(bus);
  // Batches only close on request: whatever a worker holds when the group rebalances is mid-batch.
  const worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger.child({ worker: name }),
    config: {
      groupId,
      snapshotRoot: path.join(dir, "snapshots"),
      batchIntervalMs: 600_000,
      batchMaxRecords: 1_000_000,
    },
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

it("two workers in one group split the partitions without duplicates, and a rebalance mid-batch loses nothing", async () => {
  await publishEvents(producer, topics, 0, 20_000);
  const a = await startWorker("worker-a");
  await waitFor(() => a.health().bufferedRecords === 20_000, {
    timeoutMs: 30_000,
    description: "A buffering all 20,000",
  });
  expect(await snapshotCounts(path.join(dir, "snapshots"))).toEqual({ rows: 0, distinct: 0 });

  // B joins while A holds 20,000 uncommitted records: A must drop them, and they are redelivered.
  const b = await startWorker("worker-b");
  await publishEvents(producer, topics, 20_000, 40_000);
  await waitFor(
    () =>
      a.health().assignedPartitions > 0 &&
      b.health().assignedPartitions > 0 &&
      a.health().bufferedRecords + b.health().bufferedRecords === 40_000,
    { timeoutMs: 60_000, description: "both workers holding partitions and all 40,000 records" },
  );
  const held = [...a.health().partitions, ...b.health().partitions];
  expect(new Set(held).size).toBe(held.length);
  expect(held).toHaveLength(15);

  await a.flush();
  await b.flush();
  expect(await snapshotCounts(path.join(dir, "snapshots"))).toEqual({
    rows: 40_000,
    distinct: 40_000,
  });
  for (const topic of [
    topics.watch,
    topics.rate,
    topics.click,
    topics.requests,
    topics.responses,
  ]) {
    expect(await producer.committedOffsets(groupId, topic)).toEqual(
      await producer.endOffsets(topic),
    );
  }
}, 150_000);
