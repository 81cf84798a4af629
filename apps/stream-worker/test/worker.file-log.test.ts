import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openFileLogBus, type ConsumedBatch, type ConsumedMessage, type EventBus } from "@reco/bus";
import { decodeEvent, topicNames } from "@reco/contracts";
import { waitFor } from "@reco/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compactSnapshots, listSnapshotFiles, toSnapshotRow, writeSnapshot } from "@reco/snapshots";
import { Registry } from "prom-client";
import { createStreamWorker, type DeadLetter, type StreamWorker } from "@reco/stream";
import { startWorkerHttp } from "../src/http.ts";
import {
  allCovered,
  consumed,
  publishEvents,
  quietLogger,
  sampleEvent,
  snapshotCounts,
} from "./helpers.ts";

let dir: string;
let bus: EventBus;
let worker: StreamWorker | undefined;
const topics = topicNames("t");
const root = () => path.join(dir, "snapshots");

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "worker-"));
  bus = await openFileLogBus({ dir: path.join(dir, "events"), pollIntervalMs: 20 });
  await bus.ensureTopics(Object.values(topics));
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(config: Parameters<typeof createStreamWorker>[0]["config"] = {}) {
  worker = createStreamWorker({
    bus,
    topics,
    logger: quietLogger,
    config: {
      snapshotRoot: root(),
      groupId: "g",
      batchIntervalMs: 200,
      batchMaxRecords: 300,
      ...config,
    },
  });
  return worker;
}

async function readAll(topic: string, count: number): Promise<ConsumedMessage[]> {
  const seen: ConsumedMessage[] = [];
  const reader = bus.consumer({ groupId: `reader-${Math.random()}`, topics: [topic] });
  await reader.run(async (batch) => void seen.push(...batch.messages));
  await waitFor(() => seen.length >= count, {
    timeoutMs: 20_000,
    description: `${count} records on ${topic}`,
  });
  await reader.stop();
  return seen;
}

describe("stream worker on the file log", () => {
  it("stores good events in Parquet and sends every poison message to the DLQ with its reason and bytes", async () => {
    const poison: { bytes: Buffer; reason: RegExp }[] = [
      { bytes: Buffer.from("{not json"), reason: /^bad json/ },
      {
        bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), itemId: undefined })),
        reason: /^invalid: itemId/,
      },
      {
        bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), schemaVersion: 2 })),
        reason: /^unknown schemaVersion: 2/,
      },
      {
        bytes: Buffer.from(JSON.stringify({ ...sampleEvent(0), itemId: "x".repeat(70_000) })),
        reason: /^oversized/,
      },
      { bytes: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), reason: /^bad json/ },
      {
        // a well-formed event except for one invalid UTF-8 sequence inside a string
        bytes: (() => {
          const bytes = Buffer.from(JSON.stringify({ ...sampleEvent(0), userId: "u-ZZ" }));
          bytes.set([0xc3, 0x28], bytes.indexOf("ZZ"));
          return bytes;
        })(),
        reason: /^bad json: not valid UTF-8/,
      },
    ];
    let good = 0;
    for (let round = 0; round < 40; round++) {
      await publishEvents(bus, topics, round * 25, round * 25 + 25);
      good += 25;
      const bad = poison[round % poison.length]!;
      await bus.publish(topics.watch, { key: `user-${round}`, value: bad.bytes });
    }
    startWorker();
    await worker!.start();
    await waitFor(
      () =>
        allCovered(bus, root(), consumed(topics)).then(
          async (done) => done && (await bus.endOffsets(topics.dlq)).length > 0,
        ),
      {
        timeoutMs: 30_000,
        description: "all records consumed",
      },
    );
    await worker!.flush();

    expect(await snapshotCounts(root())).toEqual({ rows: good, distinct: good });
    const letters = (await readAll(topics.dlq, 40)).map(
      (m) => JSON.parse(m.value.toString()) as DeadLetter,
    );
    expect(letters).toHaveLength(40);
    for (const letter of letters) {
      const original = Buffer.from(letter.originalBase64, "base64");
      const expected = poison.find((p) => p.bytes.equals(original));
      expect(
        expected,
        `dead letter at ${letter.sourceTopic}/${letter.partition}/${letter.offset}`,
      ).toBeDefined();
      expect(letter.reason).toMatch(expected!.reason);
      expect(letter.sourceTopic).toBe(topics.watch);
    }
  });

  it("graceful stop writes and commits what is buffered", async () => {
    await publishEvents(bus, topics, 0, 1_000);
    startWorker({ batchIntervalMs: 600_000, batchMaxRecords: 100_000 });
    await worker!.start();
    await waitFor(() => worker!.health().bufferedRecords === 1_000, { timeoutMs: 20_000 });
    expect(await snapshotCounts(root())).toEqual({ rows: 0, distinct: 0 });
    await worker!.stop();
    worker = undefined;

    expect(await snapshotCounts(root())).toEqual({ rows: 1_000, distinct: 1_000 });
    for (const topic of consumed(topics)) {
      const end = await bus.endOffsets(topic);
      expect(await bus.committedOffsets("g", topic)).toEqual(end);
    }
  });

  it("skips what the files already cover when offsets were never committed (crash between file and commit)", async () => {
    await publishEvents(bus, topics, 0, 2_000);
    startWorker();
    await worker!.start();
    await waitFor(() => allCovered(bus, root(), consumed(topics)), { timeoutMs: 20_000 });
    await worker!.stop();
    // Roll the group's commits back to zero, as if every commit after the file writes was lost.
    const rewind = bus.consumer({ groupId: "g", topics: consumed(topics) });
    await rewind.run(async () => undefined);
    await rewind.commit(rewind.assignment().map((tp) => ({ ...tp, offset: "0" })));
    await rewind.stop();
    await publishEvents(bus, topics, 2_000, 3_000);

    startWorker();
    await worker!.start();
    await waitFor(() => allCovered(bus, root(), consumed(topics)), { timeoutMs: 20_000 });
    await worker!.flush();

    expect(await snapshotCounts(root())).toEqual({ rows: 3_000, distinct: 3_000 });
  });
});

describe("a snapshot write that fails", () => {
  it("commits nothing of its cut; once the disk is fixed the rejoined worker writes every record once", async () => {
    // A dangling symlink where the rate topic's hour directory belongs: that directory cannot be
    // created (ENOENT), while listing the disk still works and the other topics' files of the
    // same cut are written.
    const hourDir = path.join(root(), `topic=${topics.rate}`, "date=2026-01-05", "hour=10");
    await mkdir(path.dirname(hourDir), { recursive: true });
    await symlink(path.join(dir, "no-such-disk", "hour=10"), hourDir);
    await publishEvents(bus, topics, 0, 1_000);
    startWorker();
    await worker!.start();
    await waitFor(() => worker!.health().consumerRestarts >= 2, {
      timeoutMs: 20_000,
      description: "the failed write stops the consumer, which rejoins and fails again",
    });
    const rateEnd = await bus.endOffsets(topics.rate);
    const rateCommitted = await bus.committedOffsets("g", topics.rate);
    for (const { partition, offset } of rateEnd) {
      const committed = rateCommitted.find((c) => c.partition === partition)?.offset ?? "0";
      expect(BigInt(committed)).toBeLessThan(BigInt(offset));
    }
    // The watch files of the failed cuts are on disk, uncommitted: the rejoined worker must skip them.
    expect((await snapshotCounts(root())).rows).toBeGreaterThan(0);

    await rm(hourDir);
    await waitFor(() => allCovered(bus, root(), consumed(topics)), { timeoutMs: 20_000 });
    await worker!.flush();
    expect(await snapshotCounts(root())).toEqual({ rows: 1_000, distinct: 1_000 });
    expect(worker!.health().status).toBe("ok");
  });
});

describe("handover", () => {
  it("drops what a late file of a member that lost the partition covers, instead of duplicating it", async () => {
    await publishEvents(bus, topics, 0, 1_000);
    startWorker({ batchIntervalMs: 600_000, batchMaxRecords: 100_000 });
    await worker!.start();
    await waitFor(() => worker!.health().bufferedRecords === 1_000, { timeoutMs: 20_000 });
    // The other member's file: the first 10 records of one partition, renamed after we read the disk.
    const batches: ConsumedBatch[] = [];
    const reader = bus.consumer({ groupId: "other-member", topics: [topics.watch] });
    await reader.run(async (batch) => void batches.push(batch));
    const first = await waitFor(() =>
      batches.find((b) => b.partition === 0 && b.messages.length >= 10),
    );
    await reader.stop();
    const rows = first.messages.slice(0, 10).map((message) => {
      const decoded = decodeEvent(message.value);
      if (!decoded.ok) throw new Error(decoded.reason);
      return toSnapshotRow(decoded.event, {
        partition: 0,
        offset: message.offset,
        raw: message.value.toString(),
      });
    });
    await writeSnapshot(
      root(),
      { topic: topics.watch, partition: 0, firstOffset: 0n, lastOffset: 9n },
      rows,
    );

    await worker!.flush();

    expect(await snapshotCounts(root())).toEqual({ rows: 1_000, distinct: 1_000 });
  });
});

describe("operations", () => {
  it("serves Prometheus metrics and health over http", async () => {
    await publishEvents(bus, topics, 0, 500);
    const registry = new Registry();
    worker = createStreamWorker({
      bus,
      topics,
      logger: quietLogger,
      registry,
      config: { snapshotRoot: root(), groupId: "g", batchIntervalMs: 100 },
    });
    const server = await startWorkerHttp({
      port: 0,
      host: "127.0.0.1",
      registry,
      health: () => worker!.health(),
    });
    try {
      const before = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(before.status).toBe(503);
      await worker.start();
      await waitFor(() => allCovered(bus, root(), consumed(topics)), { timeoutMs: 20_000 });
      await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        return /stream_worker_records_total\{topic="t\.events\.watch",outcome="snapshot"\} 100\b/.test(
          text,
        );
      });
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: "ok",
        kind: "file-log",
        assignedPartitions: 15,
      });
      expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it("resolves at start the leftovers of a compaction that crashed before deleting its inputs", async () => {
    await publishEvents(bus, topics, 0, 3_000);
    startWorker({ batchMaxRecords: 50, fetchBatchSize: 50, batchIntervalMs: 600_000 });
    await worker!.start();
    await waitFor(
      async () => (await snapshotCounts(root())).rows + worker!.health().bufferedRecords === 3_000,
      {
        timeoutMs: 20_000,
      },
    );
    await worker!.stop();
    worker = undefined;
    const inputs = await listSnapshotFiles(root());
    const saved = await Promise.all(
      inputs.map(async (file) => [file.path, await readFile(file.path)] as const),
    );
    const report = await compactSnapshots(root(), { settleMs: -10 * 365 * 24 * 3_600_000 });
    expect(report.removed.length).toBeGreaterThan(report.written.length);
    // The crash: inputs back beside their merged files.
    for (const [file, bytes] of saved) await writeFile(file, bytes);
    expect((await snapshotCounts(root())).rows).toBe(6_000);

    await publishEvents(bus, topics, 3_000, 4_000);
    startWorker();
    await worker!.start();
    await waitFor(() => allCovered(bus, root(), consumed(topics)), { timeoutMs: 20_000 });
    await worker!.flush();

    expect(await snapshotCounts(root())).toEqual({ rows: 4_000, distinct: 4_000 });
  });
});
