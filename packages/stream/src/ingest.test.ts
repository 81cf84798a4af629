/**
 * SnapshotIngest's exactly-once invariant, clause by clause, on the real file-log bus and real
 * Parquet files in a temp dir (the stream-worker app's tests cover the whole worker):
 * - every record is in exactly one snapshot file, named by its offset range;
 * - offsets are committed only after the file is durable, and never after a failed write;
 * - a member that (re)starts skips the offsets that files on disk cover;
 * - a partition revoked mid-batch writes nothing of that batch: the new owner writes all of it.
 */
import { lstat, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  openFileLogBus,
  partitionForKey,
  type BusConsumer,
  type EventBus,
  type TopicPartition,
} from "@reco/bus";
import type { RecentItem, RecoEvent } from "@reco/contracts";
import {
  coveredOffset,
  duckConnection,
  listSnapshotFiles,
  parseSnapshotPath,
  sqlString,
  type SnapshotFile,
} from "@reco/snapshots";
import { waitFor } from "@reco/testkit";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rowTexts } from "./features.ts";
import { SnapshotIngest, type FlushedBatch } from "./ingest.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { writeValidatedSnapshot } from "./parquet-batch.ts";
import { ValidationPool } from "./validation-pool.ts";

const TOPIC = "t.events.watch";
const DLQ = "t.dlq";
const PARTITIONS = 2;
const GROUP = "ingest";
const BASE_TIME = Date.parse("2026-01-05T10:00:00Z");
/** Where every test event's file goes (all events fall in that hour). */
const HOUR_DIR = path.join(`topic=${TOPIC}`, "date=2026-01-05", "hour=10");

let dir: string;
let root: string;
let bus: EventBus;
let members: Member[];
let sequence: number;
/** Per partition, the events published to it so far: the index is the offset. */
let published: RecoEvent[][];

interface Member {
  ingest: SnapshotIngest;
  consumer: BusConsumer;
  metrics: WorkerMetrics;
  /** What reached `beforeCommit`, in order. */
  flushed: FlushedBatch[];
  failures: Error[];
  /** `partition:offset` of every record handed to the handler. */
  delivered: Set<string>;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ingest-"));
  root = path.join(dir, "snapshots");
  bus = await openFileLogBus({ dir: path.join(dir, "events"), pollIntervalMs: 20 });
  await bus.ensureTopics([TOPIC, DLQ], PARTITIONS);
  members = [];
  sequence = 0;
  published = Array.from({ length: PARTITIONS }, () => []);
});
afterEach(async () => {
  for (const m of members) await m.consumer.stop();
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

/** A consumer-group member wired as the worker wires it (assign/revoke/handle), on its own ingest. */
async function join(
  options: {
    batchMaxRecords?: number;
    fetchBatchSize?: number;
    beforeCommit?: (batches: FlushedBatch[]) => Promise<void>;
    /** false: no onPartitionsAssigned, so nothing seeks (delivery starts at the committed offset). */
    reconcileOnAssign?: boolean;
    /** Serve a new consumer with this ingest instead of a new one (a restart after a failure). */
    ingest?: SnapshotIngest;
  } = {},
): Promise<Member> {
  const metrics = createWorkerMetrics(new Registry());
  const flushed: FlushedBatch[] = [];
  const failures: Error[] = [];
  const ingest =
    options.ingest ??
    new SnapshotIngest({
      bus,
      snapshotRoot: root,
      dlqTopic: DLQ,
      batchIntervalMs: 600_000, // cuts happen by size or by flushAll only
      batchMaxRecords: options.batchMaxRecords ?? 1_000,
      metrics,
      logger: pino({ level: "silent" }),
      validation: ValidationPool.create(0),
      keepEvents: false,
      keepFeatures: true,
      beforeCommit: async (batches) => {
        flushed.push(...batches);
        await options.beforeCommit?.(batches);
      },
      onFailure: (error) => void failures.push(error),
    });
  const consumer = bus.consumer({
    groupId: GROUP,
    topics: [TOPIC],
    maxBatchSize: options.fetchBatchSize ?? 500,
    ...(options.reconcileOnAssign === false
      ? {}
      : { onPartitionsAssigned: (partitions: TopicPartition[]) => ingest.assign(partitions) }),
    onPartitionsRevoked: (partitions) => ingest.revoke(partitions),
    onCrash: () => undefined, // a handler that rethrows a write failure; the test restarts it
  });
  await ingest.reset(consumer);
  const delivered = new Set<string>();
  const member = { ingest, consumer, metrics, flushed, failures, delivered };
  members.push(member);
  await consumer.run((batch) => {
    for (const m of batch.messages) delivered.add(`${batch.partition}:${m.offset}`);
    return ingest.handle(batch);
  });
  return member;
}

/** A user id whose events land on `partition`. */
function userOn(partition: number, n: number): string {
  for (let j = n; ; j++)
    if (partitionForKey(`user-${j}`, PARTITIONS) === partition) return `user-${j}`;
}

/** Publishes `counts[p]` valid watch events to each partition p; returns their event ids. */
async function publish(counts: number[]): Promise<string[]> {
  const events: RecoEvent[] = [];
  counts.forEach((count, partition) => {
    for (let n = 0; n < count; n++) {
      const i = sequence++;
      events.push({
        schemaVersion: 1,
        eventId: `ev-${i}`,
        eventTime: new Date(BASE_TIME + i * 100).toISOString(),
        userId: userOn(partition, n % 3),
        type: "watch",
        itemId: `item-${i % 13}`,
      });
      published[partition]!.push(events.at(-1)!);
    }
  });
  await bus.publishBatch(
    TOPIC,
    events.map((event) => ({ key: event.userId, value: event })),
  );
  return events.map((event) => event.eventId);
}

/** first, first + 1, …, last */
const range = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i);

async function endOffsets(): Promise<number[]> {
  return (await bus.endOffsets(TOPIC)).map(({ offset }) => Number(offset));
}

async function committed(): Promise<(number | null)[]> {
  return (await bus.committedOffsets(GROUP, TOPIC)).map(({ offset }) =>
    offset === null ? null : Number(offset),
  );
}

/** Waits until `m` was handed `count` distinct records (flushAll then takes in all of them). */
async function delivered(m: Member, count: number): Promise<void> {
  await waitFor(() => m.delivered.size >= count, {
    timeoutMs: 20_000,
    intervalMs: 20,
    description: `${count} records delivered`,
  });
}

/** Waits until the files on disk cover `partition` up to `offset`. */
async function covered(partition: number, offset: number): Promise<void> {
  await waitFor(async () => (await coveredOffset(root, TOPIC, partition)) >= BigInt(offset), {
    timeoutMs: 20_000,
    intervalMs: 20,
    description: `partition ${partition} covered up to ${offset}`,
  });
}

interface StoredRow {
  partition: number;
  offset: number;
  eventId: string;
  file: SnapshotFile;
}

/** Every row of every snapshot file, with the file it is in. */
async function storedRows(): Promise<StoredRow[]> {
  const files = await listSnapshotFiles(root);
  if (files.length === 0) return [];
  const connection = await duckConnection();
  try {
    const list = files.map((file) => sqlString(file.path)).join(", ");
    const reader = await connection.runAndReadAll(
      `SELECT "partition", "offset", event_id, filename
         FROM read_parquet([${list}], filename = true, hive_partitioning = false)`,
    );
    return reader.getRowObjectsJS().map((row) => ({
      partition: Number(row.partition),
      offset: Number(row.offset),
      eventId: String(row.event_id),
      file: parseSnapshotPath(String(row.filename))!,
    }));
  } finally {
    connection.closeSync();
  }
}

const ranges = (files: SnapshotFile[], partition: number) =>
  files
    .filter((file) => file.partition === partition)
    .map((file) => [Number(file.firstOffset), Number(file.lastOffset)]);

/**
 * The invariant on disk: each published record is in exactly one file, inside the file's offset
 * range, and each partition's files tile 0..end-1 without a gap or an overlap.
 */
async function expectEachRecordInExactlyOneFile(eventIds: string[]): Promise<void> {
  const end = await endOffsets();
  const rows = await storedRows();
  expect(rows.map((row) => row.eventId).sort()).toEqual([...eventIds].sort());
  for (const row of rows) {
    expect(row.file.partition).toBe(row.partition);
    expect(row.offset).toBeGreaterThanOrEqual(Number(row.file.firstOffset));
    expect(row.offset).toBeLessThanOrEqual(Number(row.file.lastOffset));
  }
  const files = await listSnapshotFiles(root);
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = rows.filter((row) => row.partition === p).map((row) => row.offset);
    expect(offsets.sort((a, b) => a - b)).toEqual(Array.from({ length: end[p]! }, (_, o) => o));
    let next = 0;
    for (const [first, last] of ranges(files, p)) {
      expect(first).toBe(next);
      next = last! + 1;
    }
    expect(next).toBe(end[p]);
  }
}

describe("SnapshotIngest: exactly once", () => {
  it("writes every record into exactly one file named by its offset range, and commits up to the last file", async () => {
    const ids = await publish([23, 17]);
    const m = await join({ batchMaxRecords: 6, fetchBatchSize: 4 });
    await delivered(m, 40);
    await m.ingest.flushAll();

    await expectEachRecordInExactlyOneFile(ids);
    // Cut by size at delivery boundaries (8 = two deliveries of 4), the rest by the flush.
    const files = await listSnapshotFiles(root);
    expect(ranges(files, 0)).toEqual([
      [0, 7],
      [8, 15],
      [16, 22],
    ]);
    expect(ranges(files, 1)).toEqual([
      [0, 7],
      [8, 15],
      [16, 16],
    ]);
    expect(await committed()).toEqual(await endOffsets());
    expect(m.ingest.buffered()).toBe(0);
    expect(m.failures).toEqual([]);
    // Each batch's feature updates are its own records' (every one a watch), each once, with
    // the item it is about.
    for (const batch of m.flushed) {
      const offsets = batch.features.flatMap((rows) => [...rows.positions]);
      const expected = range(Number(batch.firstOffset), Number(batch.lastOffset));
      expect(offsets.sort((a, b) => a - b)).toEqual(expected);
      const items = batch.features.flatMap((rows) =>
        rowTexts(rows).map((text) => (JSON.parse(text) as RecentItem).itemId),
      );
      expect(items.sort()).toEqual(
        expected
          .map((offset) => (published[batch.partition]![offset] as { itemId: string }).itemId)
          .sort(),
      );
    }
  });

  it("commits a batch's offsets only once its file is on disk under its final name", async () => {
    const ids = await publish([9, 7]);
    const seen: { partition: number; committedBefore: number | null; rows: number[] }[] = [];
    const m = await join({
      batchMaxRecords: 4,
      fetchBatchSize: 3,
      beforeCommit: async (batches) => {
        // The step between the durable rename and the commit: the file must be complete already,
        // and nothing of it committed yet.
        for (const batch of batches) {
          const file = batch.file!;
          expect((await lstat(file)).isFile()).toBe(true);
          expect(
            (await readdir(path.dirname(file))).filter((name) => name.startsWith(".tmp-")),
          ).toEqual([]);
          const rows = (await storedRows()).filter((row) => row.file.path === file);
          seen.push({
            partition: batch.partition,
            committedBefore: (await committed())[batch.partition]!,
            rows: rows.map((row) => row.offset).sort((a, b) => a - b),
          });
          const range = parseSnapshotPath(file)!;
          expect([range.firstOffset, range.lastOffset]).toEqual([
            batch.firstOffset,
            batch.lastOffset,
          ]);
        }
      },
    });
    await delivered(m, 16);
    await m.ingest.flushAll();

    await expectEachRecordInExactlyOneFile(ids);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const { committedBefore, rows } of seen) {
      // Committed so far: at most the file's first offset (the earlier files of its partition).
      expect(committedBefore ?? 0).toBeLessThanOrEqual(rows[0]!);
      expect(rows.length).toBeGreaterThan(0);
    }
    expect(await committed()).toEqual(await endOffsets());
  });

  it("commits nothing of a failed write; the consumer served next writes those records once", async () => {
    // A dangling symlink where the hour directory belongs: it cannot be created (the write
    // fails), while listing the disk still works.
    const hourDir = path.join(root, HOUR_DIR);
    await mkdir(path.dirname(hourDir), { recursive: true });
    await symlink(path.join(dir, "no-such-disk"), hourDir);
    const ids = await publish([6, 5]);
    const first = await join();
    await waitFor(() => first.ingest.buffered() === 11, { timeoutMs: 20_000, intervalMs: 20 });
    await expect(first.ingest.flushAll()).rejects.toThrow();

    expect(first.failures).toHaveLength(1);
    expect(first.flushed).toEqual([]);
    expect(await committed()).toEqual([null, null]);
    expect(await listSnapshotFiles(root)).toEqual([]);
    // Nothing more is taken in until the ingest serves a new consumer.
    await expect(
      first.ingest.handle({
        topic: TOPIC,
        partition: 0,
        messages: [{ offset: "99", key: "k", value: Buffer.from("{}"), timestamp: 0 }],
      }),
    ).rejects.toThrow();

    await rm(hourDir);
    await first.consumer.stop();
    const second = await join({ ingest: first.ingest });
    await delivered(second, 11);
    await second.ingest.flushAll();
    await expectEachRecordInExactlyOneFile(ids);
    expect(await committed()).toEqual(await endOffsets());
  });

  describe("a member that starts after files were written but not committed (crash between file and commit)", () => {
    /** Writes every record published so far into files, with every commit lost. */
    async function filesWithoutCommits(counts: number[]): Promise<string[]> {
      const ids = await publish(counts);
      const crashed = await join({
        beforeCommit: async () => {
          throw new Error("killed between the file and the commit");
        },
      });
      await delivered(crashed, ids.length);
      await expect(crashed.ingest.flushAll()).rejects.toThrow(/killed between/);
      expect((await listSnapshotFiles(root)).length).toBe(PARTITIONS);
      await crashed.consumer.stop();
      expect(await committed()).toEqual([null, null]);
      return ids;
    }

    it("seeks past what the files cover on assignment and writes only the rest", async () => {
      const before = await filesWithoutCommits([12, 8]);
      const filesBefore = await listSnapshotFiles(root);
      const after = await publish([3, 4]);

      const restarted = await join();
      await delivered(restarted, 7);
      await restarted.ingest.flushAll();

      await expectEachRecordInExactlyOneFile([...before, ...after]);
      // The first delivery already started after the files: nothing was read twice.
      const skipped = await restarted.metrics.records.get();
      expect(skipped.values.filter((v) => v.labels.outcome === "skipped_covered")).toEqual([]);
      const newFiles = (await listSnapshotFiles(root)).filter(
        (file) => !filesBefore.some((old) => old.path === file.path),
      );
      expect(newFiles.map((file) => [file.partition, file.firstOffset, file.lastOffset])).toEqual([
        [0, 12n, 14n],
        [1, 8n, 11n],
      ]);
      expect(await committed()).toEqual(await endOffsets());
    });

    it("without a seek, skips the redelivered offsets the files cover, and moves the commit up where all is on disk", async () => {
      const before = await filesWithoutCommits([10, 7]);
      const after = await publish([4, 0]);

      const restarted = await join({ reconcileOnAssign: false });
      await waitFor(async () => (await committed())[1] === 7 && restarted.ingest.buffered() === 4, {
        timeoutMs: 20_000,
        intervalMs: 20,
        description: "partition 1's commit moved up",
      });
      await restarted.ingest.flushAll();

      await expectEachRecordInExactlyOneFile([...before, ...after]);
      const values = (await restarted.metrics.records.get()).values;
      expect(values.find((v) => v.labels.outcome === "skipped_covered")?.value).toBe(17);
      expect(await committed()).toEqual([14, 7]);
      // The redelivered records already in files bring no feature update again: only the 4 new.
      const featureOffsets = restarted.flushed.flatMap((batch) =>
        batch.features.flatMap((rows) => [...rows.positions].map((o) => `${batch.partition}:${o}`)),
      );
      expect(featureOffsets.sort()).toEqual(["0:10", "0:11", "0:12", "0:13"]);
    });
  });

  describe("a partition revoked mid-batch", () => {
    it("drops its buffered records: the member writes nothing of them, the new owner writes them all", async () => {
      const ids = await publish([8, 9]);
      const a = await join();
      await waitFor(() => a.ingest.buffered() === 17, { timeoutMs: 20_000, intervalMs: 20 });
      expect(await listSnapshotFiles(root)).toEqual([]);

      // b joins: the group revokes both of a's partitions, then gives a partition 0, b partition 1.
      const b = await join({ batchMaxRecords: 3, fetchBatchSize: 3 });
      expect(a.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 0 }]);
      expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
      expect(a.ingest.held().map((tp) => tp.partition)).not.toContain(1);
      await covered(1, 8);
      await waitFor(() => a.ingest.buffered() === 8, { timeoutMs: 20_000, intervalMs: 20 });
      await b.ingest.flushAll();
      await a.ingest.flushAll();

      await expectEachRecordInExactlyOneFile(ids);
      expect(a.flushed.map((batch) => batch.partition)).toEqual([0]);
      expect(ranges(await listSnapshotFiles(root), 1)).toEqual([
        [0, 2],
        [3, 5],
        [6, 8],
      ]);
      expect(await committed()).toEqual(await endOffsets());
      expect(await a.metrics.commitFailures.get()).toMatchObject({ values: [{ value: 0 }] });
    });

    it("writes nothing of a cut still queued behind a write when revoked, and commits nothing of the written one", async () => {
      const ids = await publish([0, 9]);
      let entered = false;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // a cuts offsets 0..4 by size: the file is written, then held before its commit.
      const a = await join({
        batchMaxRecords: 5,
        fetchBatchSize: 5,
        beforeCommit: async () => {
          entered = true;
          await gate;
        },
      });
      await waitFor(() => entered && a.ingest.buffered() === 4, {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      // ... and 5..8 by a flush: that cut waits behind the held one.
      const flushing = a.ingest.flushAll();
      await waitFor(() => a.ingest.buffered() === 0, { timeoutMs: 20_000, intervalMs: 20 });

      // b joins: a loses partition 1 (it had only that one with records) before either finishes.
      const b = await join({ batchMaxRecords: 2, fetchBatchSize: 2 });
      expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
      await covered(1, 8);
      await b.ingest.flushAll();
      release();
      await flushing;

      await expectEachRecordInExactlyOneFile(ids);
      // b started after a's file (seek to 5); a wrote nothing of 5..8.
      expect(ranges(await listSnapshotFiles(root), 1)).toEqual([
        [0, 4],
        [5, 6],
        [7, 8],
      ]);
      expect(a.flushed.map((batch) => [batch.firstOffset, batch.lastOffset])).toEqual([[0n, 4n]]);
      // a's commit of 0..4 was dropped (the partition is b's), not attempted and rejected.
      expect(await a.metrics.commitFailures.get()).toMatchObject({ values: [{ value: 0 }] });
      expect(await committed()).toEqual([null, 9]);
    });

    it("waits for the write in flight before handing over: the new owner starts after that file", async () => {
      const ids = await publish([0, 5_000]);
      const a = await join({ batchMaxRecords: 100_000 });
      await waitFor(() => a.ingest.buffered() === 5_000, { timeoutMs: 20_000, intervalMs: 20 });
      const flushing = a.ingest.flushAll();
      // The COPY has begun once its temp file exists; b joins while it runs.
      const hourDir = path.join(root, HOUR_DIR);
      await waitFor(
        async () => (await readdir(hourDir).catch(() => [])).some((n) => n.startsWith(".tmp-")),
        { timeoutMs: 20_000, intervalMs: 1, description: "the snapshot write in flight" },
      );
      const b = await join();
      expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
      await flushing;
      await new Promise((resolve) => setTimeout(resolve, 300)); // b would be re-reading by now

      await expectEachRecordInExactlyOneFile(ids);
      expect(ranges(await listSnapshotFiles(root), 1)).toEqual([[0, 4_999]]);
      expect(b.delivered.size).toBe(0);
      // a lost the partition: its file stays (b and any restart skip it), its commit is dropped.
      expect(a.flushed).toEqual([]);
      expect(await committed()).toEqual([null, null]);
    });

    it("drops a delivery queued before the rebalance instead of appending it to the partition's fresh state", async () => {
      await publish([10, 0]);
      let entered = false;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // a writes 0..4 and holds it before its commit; the cut of 5..9 waits behind it, holding
      // the ingest, so the delivery of 10..14 is queued.
      const a = await join({
        batchMaxRecords: 5,
        fetchBatchSize: 5,
        beforeCommit: async () => {
          entered = true;
          await gate;
        },
      });
      await waitFor(() => entered && a.delivered.size === 10, {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      const later = await publish([5, 0]);
      await waitFor(() => a.delivered.size === 15, { timeoutMs: 20_000, intervalMs: 20 });

      // b joins: a loses partition 0 and gets it back, starting after its file (5).
      const b = await join();
      expect(a.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 0 }]);
      expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
      release();
      await waitFor(() => a.flushed.length === 3, {
        timeoutMs: 20_000,
        intervalMs: 20,
        description: "5..9 and 10..14 written again after the rebalance",
      });
      await a.ingest.flushAll();

      expect(later).toHaveLength(5);
      await expectEachRecordInExactlyOneFile(published.flat().map((e) => e.eventId));
      expect(ranges(await listSnapshotFiles(root), 0)).toEqual([
        [0, 4],
        [5, 9],
        [10, 14],
      ]);
      const missing = (await a.metrics.records.get()).values.filter(
        (v) => v.labels.outcome === "missing",
      );
      expect(missing).toEqual([]);
      expect(await committed()).toEqual([15, null]);
    });

    it("writes only the part of a batch that a file landed after the assignment does not cover", async () => {
      const ids = await publish([10, 0]);
      const a = await join();
      await waitFor(() => a.ingest.buffered() === 10, { timeoutMs: 20_000, intervalMs: 20 });
      // The previous owner's last file, renamed after a read the disk (Kafka revokes late).
      const events = published[0]!.slice(0, 6);
      await writeValidatedSnapshot(
        root,
        { topic: TOPIC, partition: 0, firstOffset: 0n, lastOffset: 5n },
        events.map((event, offset) => ({ payload: JSON.stringify(event), offset })),
        new Date(events[0]!.eventTime),
      );
      await a.ingest.flushAll();

      await expectEachRecordInExactlyOneFile(ids);
      expect(ranges(await listSnapshotFiles(root), 0)).toEqual([
        [0, 5],
        [6, 9],
      ]);
      const values = (await a.metrics.records.get()).values;
      expect(values.find((v) => v.labels.outcome === "skipped_covered")?.value).toBe(6);
      expect(await committed()).toEqual([10, null]);
    });
  });
});
