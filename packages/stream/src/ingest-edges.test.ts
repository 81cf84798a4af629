/**
 * SnapshotIngest at the edges of its commit rule, on the real file-log bus and real Parquet files:
 * a batch of dead letters only, a partition revoked while its cut waits or while its dead letters
 * are being sent, a member stopped while a batch waits before its commit, other partitions' due
 * batches written with a full one, and what operators read of it (dead letters counted per topic,
 * the batch duration). ingest.test.ts holds the exactly-once invariant itself.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  openFileLogBus,
  partitionForKey,
  type BusConsumer,
  type EventBus,
  type TopicPartition,
} from "@reco/bus";
import { listSnapshotFiles } from "@reco/snapshots";
import { waitFor } from "@reco/testkit";
import { pino, type Logger } from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SnapshotIngest, type FlushedBatch } from "./ingest.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { writeValidatedSnapshot } from "./parquet-batch.ts";
import { ValidationPool } from "./validation-pool.ts";

const TOPIC = "t.events.watch";
const DLQ = "t.dlq";
const PARTITIONS = 2;
const GROUP = "ingest-edges";
const BASE_TIME = Date.parse("2026-01-05T10:00:00Z");

let dir: string;
let root: string;
let bus: EventBus;
let members: Member[];
let sequence: number;

interface Member {
  ingest: SnapshotIngest;
  consumer: BusConsumer;
  metrics: WorkerMetrics;
  /** The number of batches of each beforeCommit call, in order. */
  beforeCommitCalls: number[];
  flushed: FlushedBatch[];
  failures: Error[];
  delivered: Set<string>;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ingest-edges-"));
  root = path.join(dir, "snapshots");
  bus = await openFileLogBus({ dir: path.join(dir, "events"), pollIntervalMs: 20 });
  await bus.ensureTopics([TOPIC, DLQ], PARTITIONS);
  members = [];
  sequence = 0;
});
afterEach(async () => {
  for (const m of members) await m.consumer.stop();
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

/** A group member wired as the worker wires it (assign/revoke/handle), on its own ingest. */
async function join(
  options: {
    batchMaxRecords?: number;
    batchIntervalMs?: number;
    fetchBatchSize?: number;
    beforeCommit?: () => Promise<void>;
    alongsideNextWrite?: (batches: FlushedBatch[]) => Promise<void>;
    /** The bus the ingest sends dead letters through (default: the shared one). */
    ingestBus?: EventBus;
    logger?: Logger;
  } = {},
): Promise<Member> {
  const metrics = createWorkerMetrics(new Registry());
  const beforeCommitCalls: number[] = [];
  const flushed: FlushedBatch[] = [];
  const failures: Error[] = [];
  const ingest = new SnapshotIngest({
    bus: options.ingestBus ?? bus,
    snapshotRoot: root,
    dlqTopic: DLQ,
    batchIntervalMs: options.batchIntervalMs ?? 600_000,
    batchMaxRecords: options.batchMaxRecords ?? 1_000,
    metrics,
    logger: options.logger ?? pino({ level: "silent" }),
    validation: ValidationPool.create(0),
    keepEvents: false,
    beforeCommit: async (batches) => {
      beforeCommitCalls.push(batches.length);
      flushed.push(...batches);
      await options.beforeCommit?.();
    },
    alongsideNextWrite: options.alongsideNextWrite,
    onFailure: (error) => void failures.push(error),
  });
  const consumer = bus.consumer({
    groupId: GROUP,
    topics: [TOPIC],
    maxBatchSize: options.fetchBatchSize ?? 500,
    onPartitionsAssigned: (partitions: TopicPartition[]) => ingest.assign(partitions),
    onPartitionsRevoked: (partitions) => ingest.revoke(partitions),
    onCrash: () => undefined,
  });
  await ingest.reset(consumer);
  const delivered = new Set<string>();
  const member = { ingest, consumer, metrics, beforeCommitCalls, flushed, failures, delivered };
  members.push(member);
  await consumer.run((batch) => {
    for (const m of batch.messages) delivered.add(`${batch.partition}:${m.offset}`);
    return ingest.handle(batch);
  });
  return member;
}

function userOn(partition: number): string {
  for (let j = 0; ; j++)
    if (partitionForKey(`user-${j}`, PARTITIONS) === partition) return `user-${j}`;
}

/**
 * Publishes to `partition`, in order, a valid watch event for each "v" of `pattern` and an event
 * without a user or an item (a dead letter) for each "x".
 */
async function publish(partition: number, pattern: string): Promise<object[]> {
  const userId = userOn(partition);
  const events = [...pattern].map((kind) => {
    const i = sequence++;
    const eventTime = new Date(BASE_TIME + i * 100).toISOString();
    const event =
      kind === "v"
        ? { schemaVersion: 1, eventId: `ev-${i}`, eventTime, userId, type: "watch", itemId: "i" }
        : { schemaVersion: 1, eventId: `bad-${i}`, eventTime, type: "watch" };
    return event;
  });
  await bus.publishBatch(
    TOPIC,
    events.map((event) => ({ key: userId, value: event })),
  );
  return events;
}

const dlqSize = async () =>
  (await bus.endOffsets(DLQ)).reduce((sum, { offset }) => sum + Number(offset), 0);

const committed = async () =>
  (await bus.committedOffsets(GROUP, TOPIC)).map(({ offset }) =>
    offset === null ? null : Number(offset),
  );

const fileRanges = async (partition: number) =>
  (await listSnapshotFiles(root))
    .filter((file) => file.partition === partition)
    .map((file) => [Number(file.firstOffset), Number(file.lastOffset)]);

async function recordCount(m: Member, outcome: string): Promise<number> {
  const { values } = await m.metrics.records.get();
  return values
    .filter((v) => v.labels.outcome === outcome && v.labels.topic === TOPIC)
    .reduce((sum, v) => sum + v.value, 0);
}

/** A gate a test opens by hand, and whether anything has reached it. */
function gate() {
  const state = { reached: false, open: () => {} };
  const opened = new Promise<void>((resolve) => (state.open = resolve));
  return {
    state,
    wait: async () => {
      state.reached = true;
      await opened;
    },
  };
}

const until = (condition: () => boolean | Promise<boolean>, description: string) =>
  waitFor(condition, { timeoutMs: 20_000, intervalMs: 20, description });

describe("SnapshotIngest: edges of the commit rule", () => {
  it("a batch of dead letters only: each sent to the DLQ and counted, no snapshot file, offsets committed past them", async () => {
    await publish(0, "xxxx");
    const a = await join();
    await until(() => a.delivered.size === 4, "4 records delivered");
    const before = performance.now();
    await a.ingest.flushAll();
    const elapsedSeconds = (performance.now() - before) / 1000;

    expect(a.failures).toEqual([]);
    expect(await dlqSize()).toBe(4);
    expect(await recordCount(a, "dead_letter")).toBe(4);
    expect(await listSnapshotFiles(root)).toEqual([]);
    expect(await committed()).toEqual([4, null]);
    expect(a.flushed.map((b) => [b.firstOffset, b.lastOffset, b.deadLetters, b.file])).toEqual([
      [0n, 3n, 4, null],
    ]);
    // The batch's duration, as operators read it: one batch, within the flush that wrote it.
    const { values } = await a.metrics.batchSeconds.get();
    const count = values.find((v) => v.metricName?.endsWith("_count"))?.value;
    const sum = values.find((v) => v.metricName?.endsWith("_sum"))?.value;
    expect(count).toBe(1);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThanOrEqual(elapsedSeconds);
  });

  it("mixed batches: dead letters counted per topic beside the records written", async () => {
    await publish(0, "vxvvx");
    await publish(1, "xvv");
    const a = await join();
    await until(() => a.delivered.size === 8, "8 records delivered");
    await a.ingest.flushAll();
    expect(await dlqSize()).toBe(3);
    expect(await recordCount(a, "dead_letter")).toBe(3);
    expect(await recordCount(a, "snapshot")).toBe(5);
    expect(await fileRanges(0)).toEqual([[0, 4]]);
    expect(await fileRanges(1)).toEqual([[0, 2]]);
    expect(await committed()).toEqual([5, 3]);
  });

  it("a full batch takes the other partitions' batches older than the interval into the same cut", async () => {
    const a = await join({ batchMaxRecords: 4, batchIntervalMs: 50 });
    await publish(0, "vv");
    await until(() => a.ingest.buffered() === 2, "partition 0's two records buffered");
    await new Promise((resolve) => setTimeout(resolve, 120)); // partition 0's batch is now due
    await publish(1, "vvvv"); // fills partition 1's batch: a cut by size
    await until(async () => (await fileRanges(1)).length === 1, "partition 1's file");
    // No timer runs here (flushDue is never called): partition 0 went with partition 1's cut.
    await until(async () => (await committed())[0] === 2, "partition 0 committed");
    expect(await fileRanges(0)).toEqual([[0, 1]]);
    expect(a.ingest.buffered()).toBe(0);
    expect(a.beforeCommitCalls).toEqual([2]);
  });

  it("a partition revoked while its cut waits behind a write sends none of that cut's dead letters, and beforeCommit never gets an empty list", async () => {
    // a cuts partition 1's 0..4 by size and holds it before its commit; 5..8 (two dead letters)
    // is cut by a flush and waits behind it.
    await publish(1, "vvvvvvxxv");
    const held = gate();
    const a = await join({ batchMaxRecords: 5, fetchBatchSize: 5, beforeCommit: held.wait });
    await until(() => held.state.reached && a.ingest.buffered() === 4, "0..4 held, 5..8 buffered");
    const flushing = a.ingest.flushAll();
    await until(() => a.ingest.buffered() === 0, "5..8 cut");

    // b joins: a loses partition 1 before either cut finishes; b starts after a's file (5).
    const b = await join();
    expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
    await until(() => b.delivered.size === 4, "b reads 5..8");
    // a's queued cut runs before b has written anything of 5..8.
    held.state.open();
    await flushing;
    await b.ingest.flushAll();

    // Each dead letter reached the DLQ once, from b; a's only beforeCommit call held its file.
    expect(await dlqSize()).toBe(2);
    expect(await recordCount(a, "dead_letter")).toBe(0);
    expect(await recordCount(b, "dead_letter")).toBe(2);
    expect(a.beforeCommitCalls).toEqual([1]);
    expect(await fileRanges(1)).toEqual([
      [0, 4],
      [5, 8],
    ]);
    expect(await a.metrics.commitFailures.get()).toMatchObject({ values: [{ value: 0 }] });
    expect(await committed()).toEqual([null, 9]);
  });

  it("a partition revoked while its dead letters are being sent: the old owner writes no snapshot of it, the new owner writes it all", async () => {
    await publish(1, "vvxvv");
    const sending = gate();
    // The ingest's dead letters go through a bus that waits at the gate before publishing.
    const gatedBus: EventBus = Object.assign(Object.create(bus) as EventBus, {
      publishBatch: async (...args: Parameters<EventBus["publishBatch"]>) => {
        await sending.wait();
        return bus.publishBatch(...args);
      },
    });
    const a = await join({ ingestBus: gatedBus });
    await until(() => a.ingest.buffered() === 5, "5 records buffered");
    const flushing = a.ingest.flushAll();
    await until(() => sending.state.reached, "the dead letter being sent");

    const b = await join();
    expect(b.consumer.assignment()).toEqual([{ topic: TOPIC, partition: 1 }]);
    await until(() => b.delivered.size === 5, "b reads 0..4");
    sending.state.open();
    await flushing;
    await b.ingest.flushAll();

    expect(await recordCount(a, "snapshot")).toBe(0);
    expect(a.flushed).toEqual([]);
    // b wrote every valid record itself: nothing of it was covered by a file of a's.
    expect(await recordCount(b, "snapshot")).toBe(4);
    expect(await recordCount(b, "skipped_covered")).toBe(0);
    expect(await fileRanges(1)).toEqual([[0, 4]]);
    expect(await committed()).toEqual([null, 5]);
  });

  it("a batch partly covered by another member's file is trimmed, and the warning names the partition, the offset on disk and what was dropped", async () => {
    const events = await publish(0, "vvvvvvvvvv");
    const logged: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "warn" },
      { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const a = await join({ logger });
    await until(() => a.ingest.buffered() === 10, "10 records buffered");
    // The previous owner's last file (offsets 0..5), renamed after this member read the disk.
    await writeValidatedSnapshot(
      root,
      { topic: TOPIC, partition: 0, firstOffset: 0n, lastOffset: 5n },
      events.slice(0, 6).map((event, offset) => ({ payload: JSON.stringify(event), offset })),
      new Date(BASE_TIME),
    );
    await a.ingest.flushAll();

    expect(await fileRanges(0)).toEqual([
      [0, 5],
      [6, 9],
    ]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 40,
      topic: TOPIC,
      partition: 0,
      onDisk: "5",
      dropped: 6,
      msg: "another member's snapshot covers part of this batch; writing only the rest",
    });
    expect(await recordCount(a, "skipped_covered")).toBe(6);
  });

  it("alongsideNextWrite runs while the next cut is written, holds the commits back until it ends, and sees the cuts in order", async () => {
    await publish(0, "vvvvvv");
    const held = gate();
    const seen: [bigint, bigint][] = [];
    const a = await join({
      batchMaxRecords: 3,
      fetchBatchSize: 3,
      alongsideNextWrite: async (batches) => {
        seen.push(...batches.map((b): [bigint, bigint] => [b.firstOffset, b.lastOffset]));
        if (seen.length === 1) await held.wait();
      },
    });
    // 0..2 is written and held in alongsideNextWrite; 3..5 is written meanwhile, not committed.
    await until(async () => (await fileRanges(0)).length === 2, "3..5 written while 0..2 is held");
    expect(held.state.reached).toBe(true);
    expect(seen).toEqual([[0n, 2n]]);
    expect(await committed()).toEqual([null, null]);
    held.state.open();
    await a.ingest.flushAll();

    expect(seen).toEqual([
      [0n, 2n],
      [3n, 5n],
    ]);
    expect(await committed()).toEqual([6, null]);
    expect(a.failures).toEqual([]);
  });

  it("a member stopped while a batch waits before its commit commits nothing and counts no rejected commit", async () => {
    await publish(0, "vvv");
    const held = gate();
    const a = await join({ batchMaxRecords: 3, beforeCommit: held.wait });
    await until(() => held.state.reached, "0..2 written and held before its commit");
    await a.consumer.stop();
    held.state.open();
    await a.ingest.flushAll();

    expect(await fileRanges(0)).toEqual([[0, 2]]);
    expect(await committed()).toEqual([null, null]);
    expect(await a.metrics.commitFailures.get()).toMatchObject({ values: [{ value: 0 }] });
    expect(a.failures).toEqual([]);
  });
});
