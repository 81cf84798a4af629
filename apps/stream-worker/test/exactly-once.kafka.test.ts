import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectKafkaBus, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { startPrivateKafka, type PrivateKafka } from "@reco/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runExactlyOnceScenario } from "./exactly-once-scenario.ts";

// A private broker: this test restarts it, which must never touch the shared one.
let kafka: PrivateKafka;
let bus: EventBus;
let dir: string;
const topics = topicNames("eo");

beforeAll(async () => {
  [kafka, dir] = await Promise.all([
    startPrivateKafka(),
    mkdtemp(path.join(tmpdir(), "eo-kafka-")),
  ]);
  bus = await connectKafkaBus({ brokers: kafka.brokerList, clientId: "eo-test-producer" });
  await bus.ensureTopics(Object.values(topics), 3);
}, 180_000);
afterAll(async () => {
  await bus?.close();
  await kafka?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

it("real Kafka: 200,000 events, worker SIGKILLed 5 times and the broker restarted once, every event exactly once", async () => {
  const snapshotRoot = path.join(dir, "snapshots");
  let restarted = false;
  const outcome = await runExactlyOnceScenario({
    bus,
    topics,
    snapshotRoot,
    total: 200_000,
    kills: 5,
    workerEnv: {
      KAFKA_BROKERS: kafka.brokerList,
      KAFKA_SESSION_TIMEOUT_MS: "6000",
      DATA_DIR: dir,
      SNAPSHOT_DIR: snapshotRoot,
      TOPIC_PREFIX: "eo",
      WORKER_GROUP_ID: "eo-workers",
      BATCH_INTERVAL_MS: "1000",
    },
    midway: async () => {
      await kafka.restart();
      restarted = true;
    },
    settleTimeoutMs: 150_000,
  });

  expect(restarted).toBe(true);
  expect(outcome.killedAtMs).toHaveLength(5);
  expect(outcome.lastExitCode).toBe(0);
  expect(outcome.produced).toBe(200_000);
  expect({ rows: outcome.rows, distinct: outcome.distinct }).toEqual({
    rows: 200_000,
    distinct: 200_000,
  });
}, 300_000);
