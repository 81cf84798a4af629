import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openFileLogBus, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runExactlyOnceScenario } from "./exactly-once-scenario.ts";

let dir: string;
let bus: EventBus;
const topics = topicNames("eo");

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "eo-file-"));
  bus = await openFileLogBus({ dir: path.join(dir, "events") });
  await bus.ensureTopics(Object.values(topics));
});
afterAll(async () => {
  await bus?.close();
  await rm(dir, { recursive: true, force: true });
});

it("embedded file log: 200,000 events, worker SIGKILLed 5 times, every event in the snapshots exactly once", async () => {
  const snapshotRoot = path.join(dir, "snapshots");
  const outcome = await runExactlyOnceScenario({
    bus,
    topics,
    snapshotRoot,
    total: 200_000,
    kills: 5,
    workerEnv: {
      DATA_DIR: dir,
      EVENT_LOG_READ_ONLY: "true",
      SNAPSHOT_DIR: snapshotRoot,
      TOPIC_PREFIX: "eo",
      BATCH_INTERVAL_MS: "1000",
    },
  });

  expect(outcome.killedAtMs).toHaveLength(5);
  expect(outcome.lastExitCode).toBe(0);
  expect({ rows: outcome.rows, distinct: outcome.distinct }).toEqual({
    rows: 200_000,
    distinct: 200_000,
  });
}, 180_000);
