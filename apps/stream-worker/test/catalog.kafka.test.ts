import path from "node:path";
import type { ConsumedMessage } from "@reco/bus";
import { createStreamWorker, type DeadLetter } from "@reco/stream";
import { waitFor } from "@reco/testkit";
import { describe, expect, it } from "vitest";
import {
  catalogRows,
  crashStory,
  expectedAfterCrashStory,
  expectedAfterStory,
  malformed,
  publishChanges,
  runCatalogCrashScenario,
  story,
} from "./catalog-scenario.ts";
import { allCommitted, kafkaTestFixture, quietLogger } from "./helpers.ts";

// The shared broker (`eval "$(bash scripts/services.sh env)"`), fresh topics of 3 partitions.
const fixture = kafkaTestFixture("catalog", 3);

describe("the worker's catalog snapshot on real Kafka", () => {
  it("latest state per item across partitions; malformed changes dead-lettered with their reason", async () => {
    const root = path.join(fixture.dir, "in-process");
    const worker = createStreamWorker({
      bus: fixture.bus,
      topics: fixture.topics,
      logger: quietLogger,
      config: { snapshotRoot: root, groupId: fixture.groupId, batchIntervalMs: 200 },
    });
    fixture.worker = worker;
    await worker.start();
    await fixture.bus.publishBatch(
      fixture.topics.catalog,
      malformed.map((m, n) => ({ key: `bad-${n}`, value: m.bytes })),
    );
    await publishChanges(fixture.bus, fixture.topics, story);
    await publishChanges(fixture.bus, fixture.topics, story); // a producer's retry of it all
    await waitFor(
      () => allCommitted(fixture.bus, `${fixture.groupId}.catalog`, [fixture.topics.catalog]),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: "the catalog group to commit every change",
      },
    );
    expect(await catalogRows(root)).toEqual(expectedAfterStory);

    const seen: ConsumedMessage[] = [];
    const reader = fixture.bus.consumer({
      groupId: `${fixture.groupId}-dlq-reader`,
      topics: [fixture.topics.dlq],
    });
    await reader.run(async (batch) => void seen.push(...batch.messages));
    await waitFor(() => seen.length >= malformed.length, {
      timeoutMs: 30_000,
      description: `${malformed.length} dead letters`,
    });
    await reader.stop();
    const letters = seen.map((m) => JSON.parse(m.value.toString("utf8")) as DeadLetter);
    for (const { bytes, reason } of malformed) {
      const letter = letters.find((l) => Buffer.from(l.originalBase64, "base64").equals(bytes));
      expect(letter, `a dead letter for ${bytes.toString()}`).toBeDefined();
      expect(letter!.reason).toMatch(reason);
    }
    expect(worker.health().catalog).toMatchObject({ status: "ok", partitions: [0, 1, 2] });
    await worker.stop();
    fixture.worker = undefined;
  }, 120_000);

  it("the standalone worker SIGKILLed twice ends with the same catalog: no item lost, none twice", async () => {
    const items = 120;
    const versions = 6;
    const snapshotRoot = path.join(fixture.dir, "standalone");
    const outcome = await runCatalogCrashScenario({
      bus: fixture.bus,
      topics: fixture.topics,
      snapshotRoot,
      workerEnv: {
        KAFKA_BROKERS: fixture.brokers,
        KAFKA_SESSION_TIMEOUT_MS: "6000",
        DATA_DIR: fixture.dir,
        SNAPSHOT_DIR: snapshotRoot,
        TOPIC_PREFIX: fixture.topics.catalog.replace(/\.catalog$/, ""),
        WORKER_GROUP_ID: `${fixture.groupId}-standalone`,
        FETCH_BATCH_SIZE: "40",
      },
      // The story's changes come after the first test's on the same topic: only its items count.
      rounds: crashStory(items, versions),
      kills: 2,
      matches: (rows) =>
        rows.filter((r) => r.item_id.startsWith("item-") && r.title.endsWith(` v${versions}`))
          .length === items,
      timeoutMs: 150_000,
    });
    expect(outcome).toEqual({ kills: 2, exitCode: 0 });
    const rows = await catalogRows(snapshotRoot);
    // The first test's story is on the topic too: this group reads it from the start.
    expect(rows.filter((r) => !r.item_id.startsWith("item-"))).toEqual(expectedAfterStory);
    const storyRows = rows.filter((r) => r.item_id.startsWith("item-"));
    expect(storyRows).toHaveLength(items);
    expect(storyRows).toMatchObject(expectedAfterCrashStory(items, versions));
  }, 240_000);
});
