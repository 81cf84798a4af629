/**
 * A consumer-group member on kafkajs: autoCommit off, eachBatch, explicit commitOffsets.
 * kafkajs re-fetches every assigned partition from the committed offset after each rebalance,
 * so on every GROUP_JOIN all previous partitions are reported revoked and the new set assigned;
 * the callbacks run (in order) before the next batch is handed to the handler.
 * A handler error stops the member without committing (kafkajs would otherwise retry the batch).
 */
import { BadInput } from "@reco/contracts";
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import {
  CommitRejected,
  type BatchHandler,
  type BusConsumer,
  type BusLogger,
  type ConsumerOptions,
  type TopicPartition,
  type TopicPartitionOffset,
} from "../port.ts";
import { toBusError, withTimeout } from "./errors.ts";

const DEFAULT_MAX_BATCH = 500;

export interface ConsumerTiming {
  /** Broker evicts a silent member after this (the broker's minimum is usually 6000). */
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How long the coordinator waits for members to rejoin during a rebalance. */
  rebalanceTimeoutMs: number;
  /** Long-poll wait of an idle fetch; heartbeats happen between fetches, so keep it small. */
  maxWaitTimeMs: number;
}

export interface KafkaConsumerContext {
  kafka: Kafka;
  brokers: string;
  logger: BusLogger;
  timing: ConsumerTiming;
  operationTimeoutMs: number;
  /** Throws NotFound for a topic the broker does not have. */
  requireTopic: (topic: string) => Promise<void>;
}

export class KafkaGroupConsumer implements BusConsumer {
  private consumer: Consumer | undefined;
  private assigned: TopicPartition[] = [];
  private callbacks: Promise<void> = Promise.resolve();
  private stopped = false;
  private crashed = false;
  private joined = false;
  private startError: Error | undefined;

  constructor(
    private readonly context: KafkaConsumerContext,
    private readonly options: ConsumerOptions,
  ) {}

  async run(handler: BatchHandler): Promise<void> {
    if (this.consumer) throw new BadInput("consumer.run was already called");
    if (this.stopped) throw new BadInput("consumer was stopped; create a new one");
    const { kafka, brokers, timing, operationTimeoutMs } = this.context;
    const groupId = this.options.groupId;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: timing.sessionTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
      maxWaitTimeInMs: timing.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // ~15 s of retries: rides out a coordinator still loading after a broker (re)start,
      // then crashes (reported through onCrash) instead of retrying forever.
      retry: {
        retries: 10,
        initialRetryTime: 100,
        maxRetryTime: 2000,
        restartOnFailure: async () => false,
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
      this.rebalanced(payload.memberAssignment),
    );
    consumer.on(consumer.events.CRASH, ({ payload }) => this.kafkaCrashed(payload.error));
    const what = `joining group ${groupId}`;
    try {
      for (const topic of this.options.topics) await this.context.requireTopic(topic);
      await withTimeout(consumer.connect(), operationTimeoutMs, brokers, what);
      await withTimeout(
        consumer.subscribe({
          topics: [...this.options.topics],
          fromBeginning: this.options.startFrom !== "latest",
        }),
        operationTimeoutMs,
        brokers,
        what,
      );
      const join = consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.deliver(payload, handler),
      });
      await withTimeout(join, operationTimeoutMs + timing.rebalanceTimeoutMs, brokers, what);
      if (this.startError) throw this.startError;
      await this.callbacks;
      this.joined = true;
    } catch (error) {
      this.stopped = true;
      await consumer.disconnect().catch(() => undefined);
      throw toBusError(error, brokers, what);
    }
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const groupId = this.options.groupId;
    if (!this.consumer || this.stopped)
      throw new CommitRejected(
        `consumer of group ${groupId} is not running; its partitions may belong to another member`,
      );
    for (const { topic, partition, offset } of offsets) {
      checkOffset(offset);
      if (!this.owns(topic, partition))
        throw new CommitRejected(
          `${topic}[${partition}] is not assigned to this member of group ${groupId} (rebalanced); its records will be redelivered`,
        );
    }
    const what = `committing offsets of group ${groupId}`;
    await withTimeout(
      this.consumer.commitOffsets(
        offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      ),
      this.context.operationTimeoutMs,
      this.context.brokers,
      what,
    );
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    checkOffset(offset);
    if (!this.consumer || !this.owns(topic, partition))
      throw new BadInput(
        `cannot seek ${topic}[${partition}]: not assigned to this member of group ${this.options.groupId}`,
      );
    this.consumer.seek({ topic, partition, offset });
  }

  assignment(): TopicPartition[] {
    return this.assigned.map((tp) => ({ ...tp }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.consumer) {
      await withTimeout(
        this.consumer.disconnect(),
        this.context.operationTimeoutMs,
        this.context.brokers,
        `leaving group ${this.options.groupId}`,
      ).catch((error: unknown) =>
        this.context.logger.warn(
          { err: error, groupId: this.options.groupId },
          "event-bus consumer did not leave its group cleanly",
        ),
      );
    }
    await this.callbacks;
    await this.revoke();
  }

  /**
   * Hands a kafkajs batch to the handler in slices of `maxBatchSize`. A batch (or its rest) is
   * skipped when it is stale: a pending seek, a rebalance that took the partition, a stop.
   * Skipping is safe: nothing was committed for it, and a seek or rejoin resets the position.
   */
  private async deliver(
    { batch, isStale, isRunning, heartbeat }: EachBatchPayload,
    handler: BatchHandler,
  ): Promise<void> {
    await this.callbacks;
    const { topic, partition } = batch;
    const current = () =>
      !this.crashed && !this.stopped && isRunning() && !isStale() && this.owns(topic, partition);
    const messages = batch.messages.map((m) => ({
      offset: m.offset,
      key: m.key === null ? null : m.key.toString("utf8"),
      value: m.value ?? Buffer.alloc(0),
      timestamp: Number(m.timestamp),
    }));
    const size = this.options.maxBatchSize ?? DEFAULT_MAX_BATCH;
    for (let start = 0; start < messages.length && current(); start += size) {
      try {
        await handler({ topic, partition, messages: messages.slice(start, start + size) });
      } catch (error) {
        // Returning (not throwing) keeps kafkajs from retrying the batch; the stop happens
        // outside eachBatch because kafkajs's stop waits for eachBatch to return.
        this.crashed = true;
        setImmediate(
          () => void this.crash(error instanceof Error ? error : new Error(String(error))),
        );
        return;
      }
      // Keeps the session alive across slices; a failure means the group is rebalancing.
      if (
        start + size < messages.length &&
        !(await heartbeat().then(
          () => true,
          () => false,
        ))
      )
        return;
    }
  }

  private rebalanced(memberAssignment: Record<string, number[]>): void {
    const revoked = this.assigned;
    const assigned = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    this.assigned = assigned;
    this.callbacks = this.callbacks.then(async () => {
      if (revoked.length > 0)
        await this.callback("onPartitionsRevoked", () =>
          this.options.onPartitionsRevoked?.(revoked),
        );
      if (assigned.length > 0)
        await this.callback("onPartitionsAssigned", () =>
          this.options.onPartitionsAssigned?.(assigned.map((tp) => ({ ...tp }))),
        );
    });
  }

  private kafkaCrashed(error: Error): void {
    const mapped = toBusError(
      error,
      this.context.brokers,
      `consuming for group ${this.options.groupId}`,
    );
    if (!this.joined) {
      this.startError ??= mapped; // failed while joining: run() throws it
      return;
    }
    if (!this.crashed) {
      this.crashed = true;
      void this.crash(mapped);
    }
  }

  private async crash(error: Error): Promise<void> {
    await this.stop();
    if (this.options.onCrash) this.options.onCrash(error);
    else
      this.context.logger.error(
        { err: error, groupId: this.options.groupId },
        "event-bus consumer crashed",
      );
  }

  private async revoke(): Promise<void> {
    const revoked = this.assigned;
    this.assigned = [];
    if (revoked.length > 0)
      await this.callback("onPartitionsRevoked", () => this.options.onPartitionsRevoked?.(revoked));
  }

  private owns(topic: string, partition: number): boolean {
    return this.assigned.some((tp) => tp.topic === topic && tp.partition === partition);
  }

  private async callback(name: string, call: () => Promise<void> | void): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.context.logger.error(
        { err: error, groupId: this.options.groupId },
        `${name} callback failed`,
      );
    }
  }
}

function checkOffset(offset: string): void {
  if (typeof offset !== "string" || !/^\d{1,19}$/.test(offset))
    throw new BadInput(
      `offset must be a non-negative decimal string, got ${JSON.stringify(offset)}`,
    );
}
