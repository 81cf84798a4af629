/**
 * Kafka adapter of the event-bus port (kafkajs 2.2.4).
 * - Producer: acks=all, idempotent, the port's murmur2 partitioner (= Kafka's default), no topic
 *   auto-creation. kafkajs's idempotent producer loses or reorders messages when several sends
 *   overlap (tulios/kafkajs#1005, #598), so sends go through a single-flight queue that
 *   coalesces waiting publishes into one sendBatch.
 * - Every broker call is bounded by `operationTimeoutMs`; connection problems surface as
 *   BusUnavailable naming the brokers, unknown topics as NotFound.
 */
import { BadInput, NotFound } from "@reco/contracts";
import {
  Kafka,
  logLevel,
  type Admin,
  type Message,
  type Producer,
  type TopicMessages,
} from "kafkajs";
import { kafkaLogCreator, toBusError, withTimeout } from "./kafka/errors.ts";
import { KafkaGroupConsumer, type ConsumerTiming } from "./kafka/consumer.ts";
import {
  DEFAULT_PARTITIONS,
  checkTopicName,
  encodeOutgoing,
  partitionForKey,
  silentLogger,
  type BusConsumer,
  type BusLogger,
  type CommittedOffset,
  type ConsumerOptions,
  type EventBus,
  type OutgoingMessage,
  type PartitionOffset,
} from "./port.ts";

export type { ConsumerTiming } from "./kafka/consumer.ts";

export interface KafkaBusOptions {
  /** "host:port[,host:port…]" */
  brokers: string;
  clientId: string;
  /** Receives kafkajs's warnings and errors (its info lines as debug). Silent without one. */
  logger?: BusLogger;
  /** Upper bound of any single broker call (default 30 s). */
  operationTimeoutMs?: number;
  /** TCP connect timeout per broker (default 3 s). */
  connectionTimeoutMs?: number;
  /** Consumer-group timings; tests shrink them to keep rebalances fast. */
  consumerTiming?: Partial<ConsumerTiming>;
}

const DEFAULT_TIMING: ConsumerTiming = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 30_000,
  maxWaitTimeMs: 1_000,
};

interface QueuedSend {
  topicMessages: TopicMessages;
  /** Its caller gave up (timeout): not sent if still waiting. */
  cancelled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

export async function connectKafkaBus(options: KafkaBusOptions): Promise<KafkaBus> {
  const brokers = options.brokers
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0 || !brokers.every((b) => /^[\w.-]+:\d+$/.test(b)))
    throw new BadInput(
      `Kafka brokers must be host:port[,host:port…], got ${JSON.stringify(options.brokers)}`,
    );
  const logger = options.logger ?? silentLogger;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: options.logger ? logLevel.INFO : logLevel.NOTHING,
    logCreator: kafkaLogCreator(logger),
  });
  const bus = new KafkaBus(kafka, brokers.join(","), logger, options.operationTimeoutMs ?? 30_000, {
    ...DEFAULT_TIMING,
    ...options.consumerTiming,
  });
  await bus.connect();
  return bus;
}

export class KafkaBus implements EventBus {
  readonly kind = "kafka";
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly knownTopics = new Set<string>();
  private readonly consumers = new Set<KafkaGroupConsumer>();
  private queue: QueuedSend[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    readonly brokers: string,
    private readonly logger: BusLogger,
    private readonly timeoutMs: number,
    private readonly timing: ConsumerTiming,
  ) {
    this.admin = kafka.admin();
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      createPartitioner:
        () =>
        ({ partitionMetadata, message }) =>
          partitionForKey(String(message.key), partitionMetadata.length),
    });
  }

  async connect(): Promise<void> {
    try {
      await this.call(this.admin.connect(), "connecting");
      await this.call(this.producer.connect(), "connecting the producer");
    } catch (error) {
      await this.disconnectClients();
      throw error;
    }
  }

  async ensureTopics(names: readonly string[], partitions = DEFAULT_PARTITIONS): Promise<void> {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000)
      throw new BadInput(`partitions must be an integer in 1..1000, got ${partitions}`);
    for (const name of names) checkTopicName(name);
    const missing = names.filter((n) => !this.knownTopics.has(n));
    if (missing.length === 0) return;
    await this.call(
      this.admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: true,
        timeout: this.timeoutMs,
      }),
      `creating topics ${missing.join(", ")}`,
    );
    for (const name of missing) this.knownTopics.add(name);
  }

  publish(topic: string, message: OutgoingMessage): Promise<void> {
    return this.publishBatch(topic, [message]);
  }

  async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    checkTopicName(topic);
    const kafkaMessages = messages.map(toKafkaMessage);
    if (kafkaMessages.length === 0) return;
    await this.requireTopic(topic);
    let entry: QueuedSend | undefined;
    const sent = new Promise<void>((resolve, reject) => {
      entry = {
        topicMessages: { topic, messages: kafkaMessages },
        cancelled: false,
        resolve,
        reject,
      };
      this.queue.push(entry);
      if (!this.sending) void this.drain();
    });
    try {
      await this.call(sent, `publishing to ${topic}`);
    } catch (error) {
      entry!.cancelled = true;
      throw error;
    }
  }

  consumer(options: ConsumerOptions): BusConsumer {
    if (!options.groupId) throw new BadInput("consumer groupId must be a non-empty string");
    if (options.topics.length === 0) throw new BadInput("consumer needs at least one topic");
    for (const topic of options.topics) checkTopicName(topic);
    const consumer = new KafkaGroupConsumer(
      {
        kafka: this.kafka,
        brokers: this.brokers,
        logger: this.logger,
        timing: this.timing,
        operationTimeoutMs: this.timeoutMs,
        requireTopic: (topic) => this.requireTopic(topic),
      },
      options,
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]> {
    await this.requireTopic(topic);
    const result = await this.call(
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
      `reading committed offsets of ${groupId}`,
    );
    const partitions = result.find((t) => t.topic === topic)?.partitions ?? [];
    return partitions
      .map(({ partition, offset }) => ({ partition, offset: BigInt(offset) < 0n ? null : offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    await this.requireTopic(topic);
    const offsets = await this.call(
      this.admin.fetchTopicOffsets(topic),
      `reading end offsets of ${topic}`,
    );
    return offsets
      .map(({ partition, high }) => ({ partition, offset: high }))
      .sort((a, b) => a.partition - b.partition);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    while (this.sending) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.disconnectClients();
  }

  /**
   * One sendBatch at a time; publishes that arrive meanwhile travel together in the next one.
   * A send is awaited to its end even after its callers timed out (kafkajs bounds it with
   * requestTimeout and retries), so two sends never overlap.
   */
  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.filter((q) => !q.cancelled);
        this.queue = [];
        if (batch.length === 0) continue;
        try {
          await this.producer.sendBatch({
            topicMessages: batch.map((q) => q.topicMessages),
            acks: -1,
            timeout: this.timeoutMs,
          });
          for (const q of batch) q.resolve();
        } catch (error) {
          const topics = [...new Set(batch.map((q) => q.topicMessages.topic))].join(", ");
          for (const q of batch)
            q.reject(toBusError(error, this.brokers, `publishing to ${topics}`));
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async requireTopic(topic: string): Promise<void> {
    if (this.closed)
      throw toBusError(new Error("the bus is closed"), this.brokers, `using ${topic}`);
    if (this.knownTopics.has(topic)) return;
    const topics = await this.call(this.admin.listTopics(), "listing topics");
    for (const t of topics) this.knownTopics.add(t);
    if (!this.knownTopics.has(topic)) throw new NotFound("topic", topic);
  }

  private call<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(promise, this.timeoutMs, this.brokers, what);
  }

  private async disconnectClients(): Promise<void> {
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

function toKafkaMessage(message: OutgoingMessage, index: number): Message {
  const { key, value, timestamp } = encodeOutgoing(message, index);
  return { key, value, timestamp: String(timestamp) };
}
