import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openFileLogBus, type ConsumedMessage, type EventBus } from "@reco/bus";
import { topicNames } from "@reco/contracts";
import { createStreamWorker, type DeadLetter, type StreamWorker } from "@reco/stream";
import { waitFor } from "@reco/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  catalogRows,
  change,
  crashStory,
  expectedAfterCrashStory,
  expectedAfterStory,
  malformed,
  publishChanges,
  runCatalogCrashScenario,
  story,
} from "./catalog-scenario.ts";
import { allCommitted, quietLogger } from "./helpers.ts";

let dir: string;
let bus: EventBus;
let worker: StreamWorker | undefined;
const topics = topicNames("cat");
const root = () => path.join(dir, "snapshots");

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "catalog-"));
  bus = await openFileLogBus({ dir: path.join(dir, "events"), pollIntervalMs: 20 });
  await bus.ensureTopics(Object.values(topics));
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

async function startWorker(): Promise<StreamWorker> {
  worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger,
    config: { snapshotRoot: root(), groupId: "g", batchIntervalMs: 200 },
  });
  await worker.start();
  return worker;
}

const caughtUp = () =>
  waitFor(() => allCommitted(bus, "g.catalog", [topics.catalog]), {
    timeoutMs: 20_000,
    description: "the catalog group to commit every change",
  });

async function deadLetters(count: number): Promise<DeadLetter[]> {
  const seen: ConsumedMessage[] = [];
  const reader = bus.consumer({ groupId: `reader-${Math.random()}`, topics: [topics.dlq] });
  await reader.run(async (batch) => void seen.push(...batch.messages));
  await waitFor(() => seen.length >= count, {
    timeoutMs: 20_000,
    description: `${count} dead letters`,
  });
  await reader.stop();
  return seen.map((m) => JSON.parse(m.value.toString("utf8")) as DeadLetter);
}

describe("the worker's catalog snapshot on the file log", () => {
  it("holds exactly the latest state per item: an update, a delete and an older change replayed", async () => {
    await startWorker();
    await publishChanges(bus, topics, story);
    await caughtUp();
    expect(await catalogRows(root())).toEqual(expectedAfterStory);
    expect(worker!.health().catalog).toMatchObject({ status: "ok", deadLetters: 0 });

    // Everything again (a producer retry, a replay of the topic): nothing changes.
    await publishChanges(bus, topics, story);
    await caughtUp();
    expect(await catalogRows(root())).toEqual(expectedAfterStory);

    // A restarted worker starts from the file and the committed offsets.
    await worker!.stop();
    await startWorker();
    await publishChanges(bus, topics, [story[1]!]); // beta's creation, older than its delete
    await caughtUp();
    expect(await catalogRows(root())).toEqual(expectedAfterStory);
  }, 60_000);

  it("sends a malformed catalog change to the DLQ with its reason and keeps going", async () => {
    await startWorker();
    await bus.publishBatch(
      topics.catalog,
      malformed.map((m, n) => ({ key: `bad-${n}`, value: m.bytes })),
    );
    await publishChanges(bus, topics, story);
    await caughtUp();
    expect(await catalogRows(root())).toEqual(expectedAfterStory);
    const letters = await deadLetters(malformed.length);
    expect(letters).toHaveLength(malformed.length);
    for (const { bytes, reason } of malformed) {
      const letter = letters.find((l) => Buffer.from(l.originalBase64, "base64").equals(bytes));
      expect(letter, `a dead letter for ${bytes.toString()}`).toBeDefined();
      expect(letter!.reason).toMatch(reason);
      expect(letter!.sourceTopic).toBe(topics.catalog);
    }
    expect(worker!.health().catalog).toMatchObject({ status: "ok", deadLetters: 3 });
  }, 60_000);

  it("an unreadable catalog file is quarantined and its partition rebuilt from the topic", async () => {
    await startWorker();
    await publishChanges(bus, topics, story);
    await caughtUp();
    await worker!.stop();
    const files = (await readdir(path.join(root(), "catalog"))).filter((f) =>
      f.endsWith(".parquet"),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) await writeFile(path.join(root(), "catalog", file), "not parquet");

    await startWorker();
    const delta = change({
      itemId: "delta",
      title: "Delta",
      updatedAt: "2026-03-02T09:00:00.000Z",
    });
    // One change per partition file, so every corrupt file is read again.
    await publishChanges(bus, topics, [...story.slice(0, 3), delta]);
    await waitFor(async () => (await catalogRows(root())).length === 4, {
      timeoutMs: 20_000,
      description: "the rebuilt catalog",
    });
    await caughtUp();
    expect(await catalogRows(root())).toEqual([
      expectedAfterStory[0],
      expectedAfterStory[1],
      {
        item_id: "delta",
        title: "Delta",
        genres: [],
        tags: [],
        year: null,
        available: true,
        available_from: null,
        available_until: null,
        deleted_at: null,
        updated_at: "2026-03-02 09:00:00",
      },
      expectedAfterStory[2],
    ]);
    const quarantined = await readdir(path.join(root(), "quarantine", "catalog"));
    expect(quarantined.length).toBeGreaterThan(0);
    expect(quarantined.every((name) => /^partition-\d+\..+\.corrupt$/.test(name))).toBe(true);
  }, 60_000);

  it("a change whose key is not its item id is dead-lettered: it would split the item across files", async () => {
    await startWorker();
    await bus.publish(topics.catalog, { key: "not-alpha", value: story[0] });
    await caughtUp();
    const [letter] = await deadLetters(1);
    expect(letter!.reason).toBe('invalid: key "not-alpha" is not the itemId');
    expect(await catalogRows(root())).toEqual([]);
  }, 60_000);
});

describe("the standalone worker (src/main.ts) on the file log, SIGKILLed", () => {
  it("ends with the same catalog as without the kills: no item lost, none twice", async () => {
    const items = 120;
    const versions = 6;
    const expected = expectedAfterCrashStory(items, versions);
    const snapshotRoot = root();
    const outcome = await runCatalogCrashScenario({
      bus,
      topics,
      snapshotRoot,
      workerEnv: {
        DATA_DIR: dir,
        EVENT_LOG_READ_ONLY: "true",
        SNAPSHOT_DIR: snapshotRoot,
        TOPIC_PREFIX: "cat",
        FETCH_BATCH_SIZE: "40",
      },
      rounds: crashStory(items, versions),
      kills: 2,
      matches: (rows) =>
        rows.length === items && rows.at(-1)?.title === `item ${items - 1} v${versions}`,
      timeoutMs: 90_000,
    });
    expect(outcome).toEqual({ kills: 2, exitCode: 0 });
    const rows = await catalogRows(snapshotRoot);
    expect(rows).toHaveLength(items);
    expect(rows).toMatchObject(expected);
  }, 180_000);
});
