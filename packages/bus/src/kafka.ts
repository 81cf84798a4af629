/**
 * Kafka adapter of the event-bus port (kafkajs 2.2.4).
 * - Producer: acks=all, idempotent, the port's murmur2 partitioner (= Kafka's default), no topic
 *   auto-creation. kafkajs's idempotent producer loses or reorders messages when several sends
 *   overlap (tulios/kafkajs#1005, #598), so sends go through a single-flight queue that
 *   coalesces waiting publishes into one sendBatch. A failed sendBatch is sent again as it is
 *   until its outcome is known (see `sendUntilKnown`).
 * - Every broker call is bounded by `operationTimeoutMs`; connection problems surface as
 *   BusUnavailable naming the brokers, unknown topics as NotFound.
 */
import { Backoff, BadInput, NotFound } from "@reco/contracts";
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
  PublishOutcomeUnknown,
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
  /** How long kafkajs waits for one request's answer before retrying it (default 10 s). */
  requestTimeoutMs?: number;
  /**
   * How long a failed send is sent again before it is given up (default 10 min): all later sends
   * wait behind it, so a batch the broker keeps refusing (topic deleted) must end some time.
   */
  sendRetryLimitMs?: number;
  /** Consumer-group timings; tests shrink them to keep rebalances fast. */
  consumerTiming?: Partial<ConsumerTiming>;
}

const DEFAULT_TIMING: ConsumerTiming = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 30_000,
  maxWaitTimeMs: 1_000,
};

/** Below the broker's default max.message.bytes (1 MiB) per record batch, with room for headers. */
const MAX_SEND_BYTES = 900 * 1024;

interface QueuedSend {
  topicMessages: TopicMessages;
  /** Its caller gave up (timeout): not sent if still waiting. */
  cancelled: boolean;
  /** In a send under way: it may be stored whatever its caller does. */
  sending: boolean;
  /** Stored or refused: the outcome is known. */
  settled: boolean;
  /** Keys and values, for the bound of one send. */
  bytes: number;
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
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: options.logger ? logLevel.INFO : logLevel.NOTHING,
    logCreator: kafkaLogCreator(logger),
  });
  const bus = new KafkaBus(
    kafka,
    brokers.join(","),
    logger,
    options.operationTimeoutMs ?? 30_000,
    { ...DEFAULT_TIMING, ...options.consumerTiming },
    options.sendRetryLimitMs ?? 10 * 60_000,
  );
  await bus.connect();
  return bus;
}

export class KafkaBus implements EventBus {
  readonly kind = "kafka";
  private readonly admin: Admin;
  private producer: Producer;
  /** False after a failed connect: the next send connects first. */
  private producerConnected = false;
  /** The pauses between sends of the failed batch under way (close cuts one short). */
  private retryPause: Backoff | undefined;
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
    private readonly sendRetryLimitMs: number,
  ) {
    this.admin = kafka.admin();
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
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
      this.producerConnected = true;
    } catch (error) {
      await this.disconnectClients();
      throw error;
    }
  }

  async ensureTopics(names: readonly string[], partitions = DEFAULT_PARTITIONS): Promise<void> {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000)
      throw new BadInput(`partitions must be an integer in 1..1000, got ${partitions}`);
    for (const name of names) checkTopicName(name);
    if (names.every((n) => this.knownTopics.has(n))) return;
    // Asked to create topics that exist, the broker answers TOPIC_ALREADY_EXISTS, which kafkajs
    // tolerates but logs as an error ("Topic creation errors") at every start: list them first.
    await this.learnTopics();
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
        sending: false,
        settled: false,
        bytes: kafkaMessages.reduce(
          (sum, m) => sum + Buffer.byteLength(m.value as Buffer | string) + String(m.key).length,
          0,
        ),
        resolve,
        reject,
      };
      this.queue.push(entry);
      if (!this.sending) void this.drain();
    });
    try {
      await this.call(sent, `publishing to ${topic}`);
    } catch (error) {
      if (entry!.sending && !entry!.settled)
        throw new PublishOutcomeUnknown(
          `${(error as Error).message}; the messages are still being sent and may yet be stored`,
          sent,
          error,
        );
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
    this.retryPause?.wake();
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
        const waiting = this.queue.filter((q) => !q.cancelled);
        // Publishes travel together only up to MAX_SEND_BYTES: merged, several callers' messages
        // for one partition could pass the broker's 1 MB record-batch limit, and the refusal
        // would fail them all. One publish larger than that still goes, alone.
        let bytes = 0;
        let taken = 0;
        while (taken < waiting.length) {
          const next = waiting[taken]!.bytes;
          if (taken > 0 && bytes + next > MAX_SEND_BYTES) break;
          bytes += next;
          taken += 1;
        }
        const batch = waiting.slice(0, taken);
        this.queue = waiting.slice(taken);
        if (batch.length === 0) continue;
        for (const q of batch) q.sending = true;
        await this.sendUntilKnown(batch);
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * Sends one batch until it is stored, refused for good, the bus closes or `sendRetryLimitMs`
   * passed. A failed send may have been stored on some partitions or all (the broker was killed
   * or frozen before it answered), and kafkajs then reuses those sequence numbers for the next
   * batch, which the broker refuses as out of order for as long as the producer lives. Sent
   * again as it is, with the same producer, the broker recognises what it already holds and
   * stores only the rest: no duplicate, no lost message, and the sequences agree again. So
   * nothing else is sent before it.
   */
  private async sendUntilKnown(batch: QueuedSend[]): Promise<void> {
    const topicMessages = batch.map((q) => q.topicMessages);
    const topics = [...new Set(topicMessages.map((t) => t.topic))].join(", ");
    const giveUpAt = Date.now() + this.sendRetryLimitMs;
    const backoff = (this.retryPause = new Backoff(100, 2_000));
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        if (!this.producerConnected) {
          await this.call(this.producer.connect(), "connecting the producer");
          this.producerConnected = true;
        }
        await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.timeoutMs });
        for (const q of batch) settle(q, () => q.resolve());
        if (attempts > 1)
          this.logger.info({ topics, attempts }, "kafka: a batch sent again was stored");
        return;
      } catch (error) {
        const stateLost = producerStateLost(error);
        const refused = !stateLost && refusedForGood(error);
        if (this.closed || refused || Date.now() >= giveUpAt) {
          const why = this.closed ? "the bus closed while " : "";
          const failure = toBusError(error, this.brokers, `${why}publishing to ${topics}`);
          for (const q of batch) settle(q, () => q.reject(failure));
          // It may be stored in part: a new producer id keeps the next batch from being refused
          // as out of order.
          if (!this.closed) await this.replaceProducer("a batch was given up");
          return;
        }
        if (stateLost) await this.replaceProducer("the broker lost this producer's state");
        if (attempts === 1)
          this.logger.warn(
            { topics, error: (error as Error).message },
            "kafka: a send failed; sending the same batch again until the broker answers",
          );
        await backoff.pause();
      }
    }
  }

  /**
   * A new producer gets a new producer id, with sequences from 0. For a broker that lost this
   * producer's state (unknown producer id, invalid epoch) and after a batch was given up: kafkajs
   * never resets its sequences itself (tulios/kafkajs#598). A batch sent again by the new
   * producer after a partial store is stored twice on those partitions — the only case that can
   * duplicate, and it is logged.
   */
  private async replaceProducer(why: string): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.producerConnected = false;
    this.logger.warn({ brokers: this.brokers }, `kafka: ${why}; publishing with a new producer`);
    await this.call(old.disconnect(), "closing the replaced producer").catch(() => undefined);
  }

  private async requireTopic(topic: string): Promise<void> {
    if (this.closed)
      throw toBusError(new Error("the bus is closed"), this.brokers, `using ${topic}`);
    if (this.knownTopics.has(topic)) return;
    await this.learnTopics();
    if (!this.knownTopics.has(topic)) throw new NotFound("topic", topic);
  }

  /** Adds every topic the broker lists to the known ones. */
  private async learnTopics(): Promise<void> {
    for (const topic of await this.call(this.admin.listTopics(), "listing topics"))
      this.knownTopics.add(topic);
  }

  private call<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(promise, this.timeoutMs, this.brokers, what);
  }

  private async disconnectClients(): Promise<void> {
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

function settle(q: QueuedSend, how: () => void): void {
  q.settled = true;
  how();
}

const PRODUCER_STATE_LOST = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
]);

/** kafkajs's errors and what they wrap (retries exceeded → the last attempt's error). */
function errorChain(error: unknown): { type?: unknown; name?: unknown; retriable?: unknown }[] {
  const chain: { type?: unknown; name?: unknown; retriable?: unknown }[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== "object" || depth > 5) return;
    const err = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    chain.push(e as never);
    visit(err.originalError ?? err.cause, depth + 1);
    if (Array.isArray(err.errors)) for (const inner of err.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return chain;
}

/** Whether the broker no longer knows this producer's sequences (only a new producer helps). */
export function producerStateLost(error: unknown): boolean {
  return errorChain(error).some(
    (e) => typeof e.type === "string" && PRODUCER_STATE_LOST.has(e.type),
  );
}

/**
 * Whether the broker refused the batch itself (too large, invalid record, not authorised): sending
 * it again cannot help. Anything else (connection, timeout, leadership moving) is retried.
 */
export function refusedForGood(error: unknown): boolean {
  return errorChain(error).some((e) => e.name === "KafkaJSProtocolError" && e.retriable === false);
}

function toKafkaMessage(message: OutgoingMessage, index: number): Message {
  const { key, value, timestamp } = encodeOutgoing(message, index);
  return { key, value, timestamp: String(timestamp) };
}
