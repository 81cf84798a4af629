import { CommitRejected, type BusConsumer, type ConsumedBatch, type EventBus } from "@reco/bus";
import type { Logger } from "pino";
import {
  CatalogSnapshotUnreadable,
  CatalogPartitionCache,
  applyCatalogChange,
  quarantineCatalogPartition,
  parseCatalogChange,
  type CatalogEntry,
} from "./catalog-snapshot.ts";
import { deadLetter, deadLetterMessage, type DeadLetter } from "./dead-letters.ts";

export interface CatalogFollowerOptions {
  bus: EventBus;
  /** The catalog topic (`topicNames().catalog`). */
  topic: string;
  dlqTopic: string;
  /** The worker's own group for the catalog, shared by its instances (each partition has one owner). */
  groupId: string;
  snapshotRoot: string;
  logger: Logger;
  maxBatchSize: number;
  /** First wait before a crashed or unjoinable consumer tries again; it grows up to 5 s. */
  retryDelayMs?: number;
}

export interface CatalogFollowerHealth {
  status: "starting" | "ok" | "restarting" | "stopped";
  partitions: number[];
  /** Changes applied and dead letters sent since the start (redeliveries count again). */
  applied: number;
  deadLetters: number;
}

/**
 * Keeps the catalog snapshot (`catalog-snapshot.ts`) in step with the catalog topic, at least
 * once: each delivered batch is merged into its partition's file (read, apply the changes not
 * older than what the file holds, rewrite atomically), malformed changes go to the DLQ, and only
 * then is the batch committed. A crash anywhere redelivers from the committed offset, and applying
 * a change twice changes nothing, so the file ends the same. The entries stay in memory between
 * batches only while the file is the one this process wrote (`CatalogPartitionCache`): a file a
 * partition's previous owner replaced late, during a rebalance, is read again and folded in.
 */
export class CatalogFollower {
  private consumer: BusConsumer | null = null;
  private state: CatalogFollowerHealth["status"] = "starting";
  private partitions = new Set<number>();
  private applied = 0;
  private deadLetters = 0;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly files: CatalogPartitionCache;

  constructor(private readonly options: CatalogFollowerOptions) {
    this.files = new CatalogPartitionCache(options.snapshotRoot);
  }

  /** Joins the group in the background: a missing topic or broker is retried, never fatal. */
  start(): void {
    void this.join();
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    clearTimeout(this.retryTimer);
    const member = this.consumer;
    this.consumer = null;
    await member?.stop();
  }

  health(): CatalogFollowerHealth {
    return {
      status: this.state,
      partitions: [...this.partitions].sort((a, b) => a - b),
      applied: this.applied,
      deadLetters: this.deadLetters,
    };
  }

  /** A method, not a field test: TypeScript would keep `state` narrowed across the awaits. */
  private isStopped(): boolean {
    return this.state === "stopped";
  }

  private async join(): Promise<void> {
    if (this.isStopped()) return;
    const { bus, topic, groupId, maxBatchSize, logger } = this.options;
    const member = bus.consumer({
      groupId,
      topics: [topic],
      maxBatchSize,
      onPartitionsAssigned: (assigned) => {
        for (const { partition } of assigned) {
          this.partitions.add(partition);
          this.files.forget(partition);
        }
      },
      onPartitionsRevoked: (revoked) => {
        for (const { partition } of revoked) {
          this.partitions.delete(partition);
          this.files.forget(partition);
        }
      },
      onCrash: (error) => {
        if (member !== this.consumer) return;
        logger.error(
          { err: error, topic },
          "catalog consumer stopped; rejoining from the committed offsets",
        );
        this.retry();
      },
    });
    this.consumer = member;
    try {
      await member.run((batch) => this.handle(member, batch));
      if (this.isStopped()) {
        await member.stop();
        return;
      }
      this.state = "ok";
      this.attempt = 0;
    } catch (error) {
      if (this.isStopped()) return;
      logger.warn({ err: error, topic }, "joining the catalog consumer group failed; retrying");
      this.retry();
    }
  }

  private retry(): void {
    if (this.isStopped()) return;
    this.state = "restarting";
    this.partitions.clear();
    const member = this.consumer;
    this.consumer = null;
    this.attempt++;
    const delay = Math.min(5_000, (this.options.retryDelayMs ?? 500) * this.attempt);
    void (member?.stop() ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        if (this.isStopped()) return;
        this.retryTimer = setTimeout(() => void this.join(), delay);
        this.retryTimer.unref();
      });
  }

  /**
   * An unreadable partition file (a disk fault, a hand edit) is moved to the quarantine and the
   * partition is read again from the start of the topic. The commit goes back to the start first,
   * so a crash during the rebuild resumes it rather than leaving a partial file. Changes the
   * broker no longer retains are missing until their item changes again: a compacted catalog
   * topic keeps every item's last change (packages/stream/README.md).
   */
  private async rebuild(
    member: BusConsumer,
    topic: string,
    partition: number,
    error: CatalogSnapshotUnreadable,
  ): Promise<void> {
    const movedTo = await quarantineCatalogPartition(this.options.snapshotRoot, partition);
    this.options.logger.error(
      { err: error, topic, partition, movedTo },
      "unreadable catalog snapshot file moved to the quarantine; rebuilding it from the start of the topic",
    );
    await member.commit([{ topic, partition, offset: "0" }]);
    member.seek({ topic, partition, offset: "0" });
  }

  private async handle(member: BusConsumer, batch: ConsumedBatch): Promise<void> {
    const { topic, partition, messages } = batch;
    const changes: CatalogEntry[] = [];
    const dead: DeadLetter[] = [];
    for (const message of messages) {
      const parsed = parseCatalogChange(message.value);
      if (!parsed.ok) {
        dead.push(deadLetter(topic, partition, message, parsed.reason));
        continue;
      }
      if (message.key !== null && message.key !== parsed.change.itemId) {
        // The key decides the partition, hence the file: a mismatch would split an item's history.
        dead.push(
          deadLetter(
            topic,
            partition,
            message,
            `invalid: key ${JSON.stringify(message.key)} is not the itemId`,
          ),
        );
        continue;
      }
      changes.push({
        change: parsed.change,
        updatedAtMs: parsed.updatedAtMs,
        partition,
        offset: BigInt(message.offset),
      });
    }
    if (changes.length > 0) {
      let items: Map<string, CatalogEntry>;
      try {
        items = await this.files.load(partition);
      } catch (error) {
        if (!(error instanceof CatalogSnapshotUnreadable)) throw error;
        await this.rebuild(member, topic, partition, error);
        return;
      }
      let changed = 0;
      for (const entry of changes) if (applyCatalogChange(items, entry)) changed++;
      if (changed > 0) await this.files.write(partition, items);
      else await this.files.keep(partition, items);
      this.applied += changed;
    }
    if (dead.length > 0) {
      await this.options.bus.publishBatch(this.options.dlqTopic, dead.map(deadLetterMessage));
      this.deadLetters += dead.length;
      for (const letter of dead)
        this.options.logger.warn(
          { reason: letter.reason, topic, partition, offset: letter.offset },
          "malformed catalog change sent to the DLQ",
        );
    }
    const next = (BigInt(messages.at(-1)!.offset) + 1n).toString();
    try {
      await member.commit([{ topic, partition, offset: next }]);
    } catch (error) {
      // The partition moved on (a rebalance): its new owner gets the batch again, harmlessly.
      if (!(error instanceof CommitRejected)) throw error;
      this.options.logger.info({ topic, partition }, "catalog commit rejected after a rebalance");
    }
  }
}
