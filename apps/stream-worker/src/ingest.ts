import {
  CommitRejected,
  type BusConsumer,
  type ConsumedBatch,
  type EventBus,
  type TopicPartition,
  type TopicPartitionOffset,
} from "@reco/bus";
import { decodeEvent } from "@reco/contracts";
import {
  coveredOffset,
  resolveOverlaps,
  toSnapshotRow,
  writeSnapshot,
  type SnapshotRow,
} from "@reco/snapshots";
import type { Logger } from "pino";
import { deadLetter, deadLetterMessage, type DeadLetter } from "./dead-letters.ts";
import type { WorkerMetrics } from "./metrics.ts";

/** One partition's records between two commits. */
interface MicroBatch {
  rows: SnapshotRow[];
  dead: DeadLetter[];
  firstOffset: bigint | null;
  lastOffset: bigint;
  openedAt: number;
}

interface PartitionState extends TopicPartition {
  /** Highest offset stored in a snapshot file (or consumed into a flushed batch); -1n when none. */
  covered: bigint;
  batch: MicroBatch;
  /** Changes when the partition is revoked, so a flush in flight knows its work is stale. */
  epoch: number;
  /** The snapshot write in flight, awaited by `revoke` so no file lands after a handover. */
  writing: Promise<unknown> | null;
}

/** A micro-batch whose Parquet file is durably on disk (or that held only dead letters). */
export interface FlushedBatch extends TopicPartition {
  firstOffset: bigint;
  lastOffset: bigint;
  rows: SnapshotRow[];
  deadLetters: number;
  file: string | null;
}

export interface IngestOptions {
  bus: EventBus;
  snapshotRoot: string;
  dlqTopic: string;
  batchIntervalMs: number;
  batchMaxRecords: number;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Runs after the files are written and before the offsets are committed (real-time features). */
  beforeCommit: (batches: FlushedBatch[]) => Promise<void>;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const emptyBatch = (): MicroBatch => ({
  rows: [],
  dead: [],
  firstOffset: null,
  lastOffset: -1n,
  openedAt: 0,
});

/**
 * Validation → micro-batches → Parquet → commit, per partition.
 * Exactly once: a record reaches Parquet only inside a file named by its offset range, offsets are
 * committed only after that file is durable, and a (re)assigned partition skips every offset a
 * file on disk already covers. A crash at any point therefore replays exactly the records that
 * are in no file.
 */
export class SnapshotIngest {
  private readonly partitions = new Map<string, PartitionState>();
  private lock: Promise<unknown> = Promise.resolve();
  private epochs = 0;
  private consumer: BusConsumer | null = null;

  constructor(private readonly options: IngestOptions) {}

  attach(consumer: BusConsumer | null): void {
    this.consumer = consumer;
    this.partitions.clear();
  }

  /** Records consumed but not yet written. */
  buffered(): number {
    let total = 0;
    for (const { batch } of this.partitions.values())
      total += batch.rows.length + batch.dead.length;
    return total;
  }

  /** Partitions currently held, for /healthz and metrics. */
  held(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Reconciles with the files on disk: overlaps left by a crash go, delivery resumes after the covered offset. */
  async assign(assigned: TopicPartition[]): Promise<void> {
    for (const { topic, partition } of assigned) {
      const state = await this.open(topic, partition);
      if (state.covered < 0n) continue;
      try {
        this.consumer?.seek({ topic, partition, offset: (state.covered + 1n).toString() });
      } catch (error) {
        // Not fatal: `handle` skips covered offsets anyway; the seek only saves re-reading them.
        this.options.logger.debug(
          { topic, partition, err: error },
          "seek after assignment refused",
        );
      }
    }
    this.options.metrics.assignedPartitions.set(this.partitions.size);
  }

  /** Drops uncommitted work: delivery restarts at the committed offset, here or in another member. */
  async revoke(revoked: TopicPartition[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const { topic, partition } of revoked) {
      const state = this.partitions.get(key(topic, partition));
      if (!state) continue;
      state.epoch = -1;
      if (state.writing) writes.push(state.writing.catch(() => undefined));
      this.partitions.delete(key(topic, partition));
    }
    await Promise.all(writes);
    this.options.metrics.assignedPartitions.set(this.partitions.size);
  }

  handle(batch: ConsumedBatch): Promise<void> {
    return this.exclusive(() => this.append(batch));
  }

  /** Writes and commits every batch older than the interval (called by a timer). */
  flushDue(now = Date.now()): Promise<void> {
    return this.exclusive(() =>
      this.flush((state) => now - state.batch.openedAt >= this.options.batchIntervalMs),
    );
  }

  /** Writes and commits everything buffered (graceful shutdown). */
  flushAll(): Promise<void> {
    return this.exclusive(() => this.flush(() => true));
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async open(topic: string, partition: number): Promise<PartitionState> {
    const existing = this.partitions.get(key(topic, partition));
    if (existing) return existing;
    const { removed, conflicts } = await resolveOverlaps(this.options.snapshotRoot, {
      topic,
      partition,
    });
    if (removed.length) this.options.metrics.maintenance.inc({ reason: "overlap" }, removed.length);
    if (conflicts.length)
      this.options.logger.error({ topic, partition, conflicts }, "overlapping snapshot files");
    const state: PartitionState = {
      topic,
      partition,
      covered: await coveredOffset(this.options.snapshotRoot, topic, partition),
      batch: emptyBatch(),
      epoch: ++this.epochs,
      writing: null,
    };
    this.partitions.set(key(topic, partition), state);
    return state;
  }

  private async append({ topic, partition, messages }: ConsumedBatch): Promise<void> {
    let state = this.partitions.get(key(topic, partition));
    if (!state) {
      // A batch still in flight for a partition revoked meanwhile must not be buffered again.
      const owned = this.consumer
        ?.assignment()
        .some((tp) => tp.topic === topic && tp.partition === partition);
      if (!owned) return;
      state = await this.open(topic, partition);
    }
    const { batch } = state;
    let skipped = 0;
    for (const message of messages) {
      const offset = BigInt(message.offset);
      if (offset <= state.covered || offset <= batch.lastOffset) {
        skipped++;
        continue;
      }
      if (batch.firstOffset === null) {
        batch.firstOffset = offset;
        batch.openedAt = Date.now();
      }
      batch.lastOffset = offset;
      const decoded = decodeEvent(message.value);
      if (decoded.ok) {
        batch.rows.push(
          toSnapshotRow(decoded.event, { partition, offset, raw: message.value.toString("utf8") }),
        );
      } else {
        batch.dead.push(deadLetter(topic, partition, message, decoded.reason));
      }
    }
    if (skipped) this.options.metrics.records.inc({ topic, outcome: "skipped_covered" }, skipped);
    if (batch.rows.length + batch.dead.length >= this.options.batchMaxRecords) {
      const now = Date.now();
      await this.flush(
        (candidate) =>
          candidate === state || now - candidate.batch.openedAt >= this.options.batchIntervalMs,
      );
    } else if (skipped === messages.length && batch.firstOffset === null) {
      // Everything was already on disk (crash between file and commit): move the commit up to it.
      await this.commit([{ topic, partition, offset: (state.covered + 1n).toString() }]);
    }
  }

  private async flush(due: (state: PartitionState) => boolean): Promise<void> {
    const flushed: FlushedBatch[] = [];
    const commits: TopicPartitionOffset[] = [];
    for (const state of [...this.partitions.values()]) {
      if (state.batch.firstOffset === null || !due(state)) continue;
      const result = await this.write(state);
      if (!result) continue;
      flushed.push(result);
      commits.push({
        topic: state.topic,
        partition: state.partition,
        offset: (result.lastOffset + 1n).toString(),
      });
    }
    if (flushed.length === 0) return;
    await this.options.beforeCommit(flushed);
    await this.commit(commits.filter((c) => this.partitions.has(key(c.topic, c.partition))));
  }

  private async write(state: PartitionState): Promise<FlushedBatch | null> {
    const { batch, epoch, topic, partition } = state;
    state.batch = emptyBatch();
    const firstOffset = batch.firstOffset!;
    const started = performance.now();
    if (batch.dead.length) {
      await this.options.bus.publishBatch(this.options.dlqTopic, batch.dead.map(deadLetterMessage));
      this.options.metrics.records.inc({ topic, outcome: "dead_letter" }, batch.dead.length);
    }
    if (state.epoch !== epoch) return null;
    let file: string | null = null;
    if (batch.rows.length) {
      const range = { topic, partition, firstOffset, lastOffset: batch.lastOffset };
      const writing = writeSnapshot(this.options.snapshotRoot, range, batch.rows);
      state.writing = writing;
      try {
        file = await writing;
      } finally {
        state.writing = null;
      }
      this.options.metrics.records.inc({ topic, outcome: "snapshot" }, batch.rows.length);
      this.options.metrics.batchRecords.observe(batch.rows.length);
    }
    state.covered = batch.lastOffset;
    this.options.metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (state.epoch !== epoch) return null;
    return {
      topic,
      partition,
      firstOffset,
      lastOffset: batch.lastOffset,
      rows: batch.rows,
      deadLetters: batch.dead.length,
      file,
    };
  }

  private async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (!offsets.length || !this.consumer) return;
    try {
      await this.consumer.commit(offsets);
    } catch (error) {
      if (!(error instanceof CommitRejected)) throw error;
      // The partition moved on; its new owner skips what our file covers, so nothing is lost.
      this.options.metrics.commitFailures.inc();
      this.options.logger.warn({ offsets, err: error }, "commit rejected after a rebalance");
    }
  }
}
