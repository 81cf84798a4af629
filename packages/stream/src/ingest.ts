/**
 * Exactly once, per record: it is in exactly one snapshot file, named by its offset range; its
 * offset is committed only once that file is durable, never past a failed write (writeAndCommit);
 * a (re)assigned partition skips the offsets that files on disk cover (open, append, trimToDisk);
 * a revoked partition writes and commits nothing more (revoke: live, generation). ingest.test.ts.
 */
import {
  CommitRejected,
  type BusConsumer,
  type ConsumedBatch,
  type EventBus,
  type TopicPartition,
  type TopicPartitionOffset,
} from "@reco/bus";
import { coveredOffset, resolveOverlaps } from "@reco/snapshots";
import type { Logger } from "pino";
import { deadLetter, deadLetterMessage } from "./dead-letters.ts";
import type { EventSummary } from "./event-summary.ts";
import { rowsAfter, type FeatureRows } from "./features.ts";
import type { WorkerMetrics } from "./metrics.ts";
import { batchSize as size, emptyBatch, trimBatch, type MicroBatch } from "./micro-batch.ts";
import { writeValidatedSnapshot } from "./parquet-batch.ts";
import type { ValidationPool } from "./validation-pool.ts";
import type { ValidationReply } from "./validation.ts";

interface PartitionState extends TopicPartition {
  /** Highest offset durably handled: in a snapshot file, or dead-lettered and committed. */
  covered: bigint;
  /** Highest offset taken into a batch (written or not); anything at or below is a redelivery. */
  taken: bigint;
  batch: MicroBatch;
  /** False once the partition is revoked: writes queued for it are dropped, not committed. */
  live: boolean;
  /** The snapshot write in flight, awaited by `revoke` so no file lands after a handover. */
  writing: Promise<unknown> | null;
}

/** A micro-batch whose Parquet file is durably on disk (or that held only dead letters). */
export interface FlushedBatch extends TopicPartition {
  firstOffset: bigint;
  lastOffset: bigint;
  events: EventSummary[];
  /** Its real-time feature updates (when kept), a part per delivery, without redeliveries. */
  features: FeatureRows[];
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
  validation: ValidationPool;
  /** Hand the decoded events of each written batch to `beforeCommit` (else it gets none). */
  keepEvents: boolean;
  /** Hand the real-time feature updates of each written batch to `beforeCommit` (else none). */
  keepFeatures?: boolean;
  /** Runs after the files are written and before the offsets are committed (real-time features). */
  beforeCommit: (batches: FlushedBatch[]) => Promise<void>;
  /**
   * Runs after `beforeCommit`, alongside the next cut's write, and before the commit: work on
   * another server (real-time features in Redis) that need not hold up the next write. Calls come
   * in the order of the cuts, one at a time.
   */
  alongsideNextWrite?: (batches: FlushedBatch[]) => Promise<void>;
  /**
   * A write failed: nothing more is written or committed for `consumer` until `reset`. Called once
   * per consumer served; the owner restarts it (delivery resumes at the committed offsets).
   */
  onFailure?: (error: Error, consumer: BusConsumer) => void;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/** Deliveries validated ahead of the append; bounds the memory held outside the batches. */
const MAX_QUEUED_DELIVERIES = 3;

/**
 * Validation → micro-batches → Parquet → commit, per partition.
 * Exactly once: a record reaches Parquet only inside a file named by its offset range, offsets are
 * committed only after that file is durable, and a (re)assigned partition skips every offset a
 * file on disk already covers. A crash at any point therefore replays exactly the records that
 * are in no file.
 * Cuts are written one at a time, in order (the partitions of a cut side by side), while the next
 * records are being validated (DuckDB's COPY works off the JS thread); a cut's `alongsideNextWrite`
 * and commit overlap the next cut's write only. A failed write stops the ingest until `reset`, so
 * no later batch can be committed past records that never reached a file.
 */
export class SnapshotIngest {
  private readonly partitions = new Map<string, PartitionState>();
  private lock: Promise<unknown> = Promise.resolve();
  /** Settles once the last cut's files are written and the cut before it is committed. */
  private writes: Promise<void> = Promise.resolve();
  /** Settles once the last cut is committed (or was dropped). */
  private published: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private consumer: BusConsumer | null = null;
  /** Bumped by every revoke and reset: batches delivered before it are stale. */
  private generation = 0;
  private queued: Promise<void>[] = [];

  constructor(private readonly options: IngestOptions) {}

  /** Serves a new consumer, after every write queued for the previous one has settled. */
  async reset(consumer: BusConsumer | null): Promise<void> {
    this.generation++;
    for (const state of this.partitions.values()) state.live = false;
    this.partitions.clear();
    this.consumer = null;
    await Promise.allSettled(this.queued);
    this.queued = [];
    await this.writes.catch(() => undefined);
    await this.published.catch(() => undefined);
    this.writes = Promise.resolve();
    this.published = Promise.resolve();
    this.failure = null;
    this.consumer = consumer;
  }

  /** Records consumed but not yet written. */
  buffered(): number {
    let total = 0;
    for (const { batch } of this.partitions.values()) total += size(batch);
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
        // Not fatal: `append` skips covered offsets anyway; the seek only saves re-reading them.
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
    this.generation++;
    const writes: Promise<unknown>[] = [];
    for (const { topic, partition } of revoked) {
      const state = this.partitions.get(key(topic, partition));
      if (!state) continue;
      state.live = false;
      if (state.writing) writes.push(state.writing.catch(() => undefined));
      this.partitions.delete(key(topic, partition));
    }
    await Promise.all(writes);
    this.options.metrics.assignedPartitions.set(this.partitions.size);
  }

  /**
   * Validation runs on its own thread while the next batches are fetched: the handler returns
   * once the batch is queued (at most a few deliveries ahead), and the batches are appended in
   * delivery order. Nothing is committed before it is in a file, so returning early is safe.
   */
  async handle(batch: ConsumedBatch): Promise<void> {
    if (this.failure) throw this.failure;
    // Captured now: a rebalance or a new consumer while this batch waits makes it stale.
    const generation = this.generation;
    const verdicts = this.options.validation.validate(
      batch.messages.map((message) => message.value),
      { events: this.options.keepEvents, features: this.options.keepFeatures ?? false },
    );
    verdicts.catch(() => undefined); // surfaced by the append below
    const appended = this.exclusive(async () => this.append(batch, generation, await verdicts));
    appended.catch((error: Error) => this.fail(error));
    this.queued.push(appended);
    while (this.queued.length > MAX_QUEUED_DELIVERIES) await this.queued.shift();
  }

  /** Writes and commits every batch older than the interval (called by a timer). */
  flushDue(now = Date.now()): Promise<void> {
    return this.exclusive(async () => {
      if (this.failure) return; // already reported; the consumer is being restarted
      await this.cut((state) => now - state.batch.openedAt >= this.options.batchIntervalMs);
    });
  }

  /** Writes and commits everything buffered, and waits for it (graceful shutdown, tests). */
  flushAll(): Promise<void> {
    return this.exclusive(async () => {
      await this.cut(() => true);
      await this.writes;
      await this.published;
    });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    // Not while `reset` waits for the previous consumer's work: that consumer is gone already.
    if (this.consumer) this.options.onFailure?.(error, this.consumer);
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async open(topic: string, partition: number): Promise<PartitionState> {
    const existing = this.partitions.get(key(topic, partition));
    if (existing) return existing;
    const root = this.options.snapshotRoot;
    const { removed, conflicts } = await resolveOverlaps(root, { topic, partition });
    if (removed.length) this.options.metrics.maintenance.inc({ reason: "overlap" }, removed.length);
    if (conflicts.length)
      this.options.logger.error({ topic, partition, conflicts }, "overlapping snapshot files");
    const covered = await coveredOffset(root, topic, partition);
    const state: PartitionState = {
      topic,
      partition,
      covered,
      taken: covered,
      batch: emptyBatch(),
      live: true,
      writing: null,
    };
    this.partitions.set(key(topic, partition), state);
    return state;
  }

  private async append(
    { topic, partition, messages }: ConsumedBatch,
    generation: number,
    reply: ValidationReply,
  ): Promise<void> {
    if (this.failure) throw this.failure;
    // Appending a stale batch to a fresh state would skip the records between the new position
    // and the batch, and mark them covered: drop it, delivery restarts at the new position.
    if (generation !== this.generation || !this.consumer) return;
    let state = this.partitions.get(key(topic, partition));
    if (!state) {
      const owned = this.consumer
        .assignment()
        .some((tp) => tp.topic === topic && tp.partition === partition);
      if (!owned) return;
      state = await this.open(topic, partition);
    }
    const { batch } = state;
    const takenBefore = state.taken;
    // Offset of each message, for the feature rows (which know their message's index).
    const offsets = reply.features ? new Float64Array(messages.length) : null;
    let skipped = 0;
    let valid = 0;
    let invalid = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const isValid = reply.valid[i] === 1;
      const reason = isValid ? "" : reply.reasons[invalid++]!;
      const event = isValid && this.options.keepEvents ? reply.events[valid] : undefined;
      if (isValid) valid++;
      const offset = BigInt(message.offset);
      if (offsets) offsets[i] = Number(offset);
      if (offset <= state.taken) {
        skipped++;
        continue;
      }
      if (offset > state.taken + 1n && state.taken >= 0n) this.reportGap(state, offset);
      if (batch.firstOffset === null) {
        batch.firstOffset = offset;
        batch.openedAt = Date.now();
      }
      batch.lastOffset = offset;
      state.taken = offset;
      if (isValid) {
        const payload = message.value.toString("utf8");
        batch.records.push({ payload, offset: Number(offset) });
        // The first valid message's time comes with the reply; a later one (the first was a
        // redelivery, skipped above) is read from its payload.
        batch.firstEventTime ??=
          i === reply.firstValid
            ? reply.firstEventTime
            : (JSON.parse(payload) as { eventTime: string }).eventTime;
        if (event) batch.events.push(event);
      } else {
        batch.dead.push(deadLetter(topic, partition, message, reason));
      }
    }
    if (skipped) this.options.metrics.records.inc({ topic, outcome: "skipped_covered" }, skipped);
    if (reply.features && offsets) {
      const { positions } = reply.features;
      for (let row = 0; row < positions.length; row++) positions[row] = offsets[positions[row]!]!;
      // A redelivery's messages already taken are in this batch or a file: not pushed again.
      const rows = skipped ? rowsAfter(reply.features, Number(takenBefore)) : reply.features;
      if (rows.positions.length) batch.features.push(rows);
    }
    if (size(batch) >= this.options.batchMaxRecords) {
      const now = Date.now();
      const due = (candidate: PartitionState) =>
        candidate === state || now - candidate.batch.openedAt >= this.options.batchIntervalMs;
      await this.cut(due);
    } else if (
      skipped === messages.length &&
      batch.firstOffset === null &&
      state.covered === state.taken
    ) {
      // Everything was already on disk (crash between file and commit): move the commit up to it.
      await this.commit([{ topic, partition, offset: (state.covered + 1n).toString() }]);
    }
  }

  /**
   * Offsets after the last one handled that the broker no longer delivers: deleted by its
   * retention (or by an operator) before this group read them. Nothing can bring them back, so
   * they are counted and logged loudly instead of vanishing unseen.
   */
  private reportGap(state: PartitionState, next: bigint): void {
    const missing = next - state.taken - 1n;
    this.options.metrics.records.inc({ topic: state.topic, outcome: "missing" }, Number(missing));
    this.options.logger.error(
      {
        topic: state.topic,
        partition: state.partition,
        from: String(state.taken + 1n),
        to: String(next - 1n),
        missing: String(missing),
      },
      "offsets never delivered: the broker deleted them (retention?) before they were read",
    );
  }

  /**
   * Takes the due batches out of their partitions and queues their write (and beforeCommit)
   * behind the writes already queued, and their `alongsideNextWrite` and commit behind the
   * commits: those overlap the next cut's write, never a later one's (a write starts once the cut
   * two before is committed). Waits only for the write before it.
   */
  private async cut(due: (state: PartitionState) => boolean): Promise<void> {
    const taken: { state: PartitionState; batch: MicroBatch }[] = [];
    for (const state of this.partitions.values()) {
      if (state.batch.firstOffset === null || !due(state)) continue;
      taken.push({ state, batch: state.batch });
      state.batch = emptyBatch();
    }
    if (!taken.length) return;
    const previous = this.writes;
    const previousPublished = this.published;
    const written = previous.then(() => this.writeCut(taken));
    // In order, and nothing after a cut that failed (its rejection skips every later one).
    const ready = Promise.all([written, previousPublished]);
    const published = ready.then(([flushed]) => this.publish(flushed));
    this.writes = ready.then(() => undefined);
    this.published = published;
    // A failure is reported once, by `written` or `published`; the next cut, `flush` and `reset`
    // read `writes` themselves (or none comes: then it must not count as unhandled).
    this.writes.catch(() => undefined);
    written.catch((error: Error) => this.fail(error));
    published.catch((error: Error) => this.fail(error));
    await previous;
  }

  private async writeCut(
    taken: { state: PartitionState; batch: MicroBatch }[],
  ): Promise<{ state: PartitionState; result: FlushedBatch }[]> {
    // The partitions of one cut are written side by side (each COPY is single-threaded in DuckDB);
    // all of them settle before anything is committed or the failure is reported.
    const settled = await Promise.allSettled(
      taken.map(({ state, batch }) => this.write(state, batch)),
    );
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const flushed: { state: PartitionState; result: FlushedBatch }[] = [];
    settled.forEach((result, i) => {
      if (result.status === "fulfilled" && result.value)
        flushed.push({ state: taken[i]!.state, result: result.value });
    });
    if (flushed.length) await this.options.beforeCommit(flushed.map(({ result }) => result));
    return flushed;
  }

  /** `alongsideNextWrite`, then the offsets of the files written. */
  private async publish(flushed: { state: PartitionState; result: FlushedBatch }[]): Promise<void> {
    if (flushed.length === 0) return;
    await this.options.alongsideNextWrite?.(flushed.map(({ result }) => result));
    const commits: TopicPartitionOffset[] = flushed
      .filter(({ state }) => state.live)
      .map(({ result }) => ({
        topic: result.topic,
        partition: result.partition,
        offset: (result.lastOffset + 1n).toString(),
      }));
    await this.commit(commits);
  }

  /**
   * A member that lost this partition in a rebalance may have renamed its last file after we
   * read the disk (Kafka revokes only once the group has moved on): drop what such a file holds.
   */
  private async trimToDisk(state: PartitionState, batch: MicroBatch): Promise<MicroBatch> {
    const onDisk = await coveredOffset(this.options.snapshotRoot, state.topic, state.partition);
    const { trimmed, dropped } = trimBatch(batch, onDisk);
    if (dropped === 0) return trimmed;
    this.options.metrics.records.inc({ topic: state.topic, outcome: "skipped_covered" }, dropped);
    this.options.logger.warn(
      { topic: state.topic, partition: state.partition, onDisk: String(onDisk), dropped },
      "another member's snapshot covers part of this batch; writing only the rest",
    );
    return trimmed;
  }

  private async write(state: PartitionState, taken: MicroBatch): Promise<FlushedBatch | null> {
    const { topic, partition } = state;
    const started = performance.now();
    if (!state.live) return null;
    const batch = await this.trimToDisk(state, taken);
    const firstOffset = batch.firstOffset!;
    if (batch.dead.length) {
      await this.options.bus.publishBatch(this.options.dlqTopic, batch.dead.map(deadLetterMessage));
      this.options.metrics.records.inc({ topic, outcome: "dead_letter" }, batch.dead.length);
    }
    if (!state.live) return null;
    let file: string | null = null;
    if (batch.records.length) {
      const range = { topic, partition, firstOffset, lastOffset: batch.lastOffset };
      const firstEventTime = new Date(batch.firstEventTime!);
      const writing = writeValidatedSnapshot(
        this.options.snapshotRoot,
        range,
        batch.records,
        firstEventTime,
      );
      state.writing = writing;
      try {
        file = await writing;
      } finally {
        state.writing = null;
      }
      this.options.metrics.records.inc({ topic, outcome: "snapshot" }, batch.records.length);
      this.options.metrics.batchRecords.observe(batch.records.length);
    }
    state.covered = batch.lastOffset;
    this.options.metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (!state.live) return null;
    return {
      topic,
      partition,
      firstOffset,
      lastOffset: batch.lastOffset,
      events: batch.events,
      features: batch.features,
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
