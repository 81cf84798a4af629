/**
 * The event-bus port, shaped after Kafka (kafkajs 2.x) so both adapters keep Kafka's semantics:
 * topics split into partitions, keyed messages (key = user id) always land on the same partition
 * (murmur2(key) mod partitions, see `partitionForKey`), per-partition order, consumer groups with
 * EXPLICIT commits (never auto-commit) and at-least-once delivery.
 *
 * Offsets are decimal strings ("0", "1", …), as in kafkajs: Kafka offsets are int64, strings are
 * JSON-safe and exact. Use `BigInt(offset)` (or `nextOffset`) for arithmetic.
 * A committed offset is the NEXT offset to read (last processed + 1), as in Kafka.
 */
import { AppError, BadInput, Unavailable } from "@reco/contracts";

export const DEFAULT_PARTITIONS = 3;

export interface EventBus {
  /** Which adapter this is, for logs and metrics ("file-log" | "kafka"). */
  readonly kind: "file-log" | "kafka";
  /**
   * Creates the topics that do not exist yet, each with `partitions` partitions (default 3).
   * An existing topic keeps its partition count. Topic names: letters, digits, `.`, `_`, `-`.
   */
  ensureTopics(names: readonly string[], partitions?: number): Promise<void>;
  /** Publishes one message; resolves once it is durably stored (file: fsynced; Kafka: acks=all). */
  publish(topic: string, message: OutgoingMessage): Promise<void>;
  /**
   * Publishes many messages to one topic in one request (file log: one write per partition file).
   * Order is kept per key. Not atomic across partitions: if it rejects, a prefix may be stored.
   * Rejects with `PublishOutcomeUnknown` when its deadline passed while the adapter was still
   * sending it: wait for that error's `settled` before sending the messages again.
   */
  publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** A consumer-group member; nothing is fetched until `run`. */
  consumer(options: ConsumerOptions): BusConsumer;
  /** The group's committed offset per partition of `topic`; `null` where nothing was committed. */
  committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]>;
  /** Per partition: the offset the next published record will get (Kafka's high watermark). */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Stops every consumer created from this bus, then releases files/connections. */
  close(): Promise<void>;
}

/**
 * A message value already serialised as JSON by the producer (built from JSON.stringify output),
 * published without a parse or a second serialisation. The producer answers for its validity.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface OutgoingMessage {
  /** The partitioning key: the user id for events, so one user's events stay in order. */
  key: string;
  /**
   * A Buffer is sent as-is, a `JsonText` as its text; anything else as `JSON.stringify(value)`.
   */
  value: unknown;
  /** Event time in ms since the epoch; defaults to now. */
  timestamp?: number;
}

export interface ConsumedMessage {
  offset: string;
  /** `null` only for records written by foreign producers without a key. */
  key: string | null;
  value: Buffer;
  /** ms since the epoch (the producer's timestamp). */
  timestamp: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** Non-empty, in offset order. */
  messages: ConsumedMessage[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface CommittedOffset {
  partition: number;
  offset: string | null;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** For `commit`: the NEXT offset to read. For `seek`: the next offset to deliver. */
  offset: string;
}

export type BatchHandler = (batch: ConsumedBatch) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts: "earliest" (default) or "latest". */
  startFrom?: "earliest" | "latest";
  /**
   * Called when this member gets partitions (after joining and after every rebalance). Delivery
   * for each assigned partition (re)starts at the group's committed offset.
   */
  onPartitionsAssigned?: (partitions: TopicPartition[]) => Promise<void> | void;
  /**
   * Called when this member loses its partitions: on every rebalance (eager protocol: ALL its
   * partitions are revoked, then a new set is assigned) and on `stop`. Uncommitted in-memory
   * work for them must be DROPPED: delivery restarts at the committed offset, here or elsewhere.
   * The file log awaits this before handing partitions over (a commit inside it still works);
   * Kafka reports it once the group has already rebalanced, so a commit inside it may be
   * rejected with `CommitRejected`. Portable code drops; it does not flush-and-commit here.
   */
  onPartitionsRevoked?: (partitions: TopicPartition[]) => Promise<void> | void;
  /**
   * The consumer stopped on its own: the handler threw, or the log/broker failed. Nothing of the
   * failing batch was committed. Without this callback the error goes to the bus logger.
   */
  onCrash?: (error: Error) => void;
  /** Upper bound on messages per handler call (default 500). */
  maxBatchSize?: number;
}

/**
 * ## The consumer rebalance contract
 *
 * What a member of a consumer group does, state by state. Both adapters implement it
 * (`file-log/group.ts`, `kafka/consumer.ts`) with eager rebalancing, as Kafka's classic protocol;
 * tests cite the rows they check as `// contract: <row>`. `P` is the member's assignment, `P'` the
 * next one; either may be empty (more members than partitions), and no callback is called for an
 * empty set. A callback that throws is logged; it does not stop the member.
 *
 * | row       | state → next                                  | on                                  | what the member sees |
 * |-----------|-----------------------------------------------|-------------------------------------|----------------------|
 * | idle      | idle                                          | `bus.consumer(options)`             | Nothing fetched; `assignment()` is `[]`; `commit` → `CommitRejected`, `seek` → `BadInput`. |
 * | join      | idle → joining → assigned(P)                  | `run(handler)`                      | The group rebalances (every member goes through `rebalance`); `run` resolves once `onPartitionsAssigned(P)` has returned. A topic that does not exist → `NotFound`; no broker, an unreadable offsets file → `run` rejects with that error. |
 * | start     | assigned(P)                                   | the assignment                      | Each p in P is delivered from the group's committed offset, or from `startFrom` (earliest by default) where none was committed. A `seek` inside `onPartitionsAssigned` applies before p's first batch. |
 * | deliver   | assigned(P)                                   | records in P                        | Batches of one partition of P, one at a time (never two handler calls at once), at most `maxBatchSize`, in offset order. The adapter never commits. |
 * | commit    | assigned(P)                                   | `commit(offsets)`                   | Allowed for partitions in P, inside or outside the handler; durable once it resolves. A partition not in P → `CommitRejected`, and nothing of that call is stored. |
 * | seek      | assigned(P)                                   | `seek(position)`                    | p in P: its next batch starts at the offset (replay or skip); nothing is committed. p not in P → `BadInput`. |
 * | rebalance | assigned(P) → revoking(P) → assigned(P')      | a member joins, leaves or crashes   | `onPartitionsRevoked(P)`, then `onPartitionsAssigned(P')`, both before the next batch. Every p in P' restarts at its committed offset, kept partitions included: uncommitted deliveries come again (here or at another member), so work buffered for P is DROPPED in `onPartitionsRevoked`. File log: the in-flight batch finishes first, the callback is awaited before anyone gets P, `assignment()` is still P inside it and a commit there works. Kafka: the in-flight batch finishes (or stops at a `maxBatchSize` slice), the callbacks come after the member rejoined: `assignment()` is P' already and a commit of a partition not in P' → `CommitRejected`. |
 * | crash     | joining or assigned(P) → stopped              | the handler throws; log/broker fails | Nothing of the failing batch is committed. `onPartitionsRevoked(P)`, the member leaves (P goes to the others from the committed offsets), then `onCrash(error)` (without it, the bus logger). A member still joining gets the error from `run` instead. |
 * | stop      | assigned(P) → stopped                         | `stop()`                            | Waits for the in-flight batch, `onPartitionsRevoked(P)`, leaves: P goes to the other members from the committed offsets. Does not commit; idempotent. A commit inside that last callback: file log works, Kafka → `CommitRejected`. |
 * | stopped   | stopped                                       | any call                            | `run` → `BadInput` (create a new consumer); `commit` → `CommitRejected`; `seek` → `BadInput`; `assignment()` is `[]`. |
 * | restart   | (a new member of the group)                   | after a stop, a crash or kill -9     | Each partition from the committed offset: everything after it is delivered again (at least once); nothing committed → `startFrom`. Kafka gives a killed member's partitions to the others after its session timeout; a file-log group lives in one process, so its restart is the process's (offsets are read from `groups/<group>.json`). |
 */
export interface BusConsumer {
  /**
   * Joins the group and starts delivering batches to `handler`, one at a time (never two batches
   * concurrently). Resolves once the member has its first assignment. A batch is delivered again
   * after a restart or rebalance unless an offset past it was committed.
   */
  run(handler: BatchHandler): Promise<void>;
  /** Commits the given next-offsets for this group (durably). May be called outside the handler. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /**
   * Moves the fetch position of an assigned partition: the next batch for it starts at `offset`
   * (replay or skip). Does not commit. Only valid after `run` resolved.
   */
  seek(position: TopicPartitionOffset): void;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /**
   * Waits for the in-flight batch to finish, calls `onPartitionsRevoked`, and leaves the group
   * (its partitions move to the remaining members). Does NOT commit. Idempotent.
   * Not from inside the handler or a rebalance callback: it waits for them to finish.
   */
  stop(): Promise<void>;
}

/** Logger shape both adapters use (pino's `logger.warn(obj, msg)` fits). */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: BusLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The broker / log cannot be reached or did not answer in time. */
export class BusUnavailable extends Unavailable {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message, 1);
  }
}

/**
 * The caller's deadline passed while the bus was still sending the messages: they may yet be stored.
 * `settled` resolves once they are, or rejects once they will not be (refused, bus closed); sending
 * them again before that could store them twice.
 */
export class PublishOutcomeUnknown extends BusUnavailable {
  constructor(
    message: string,
    readonly settled: Promise<void>,
    cause?: unknown,
  ) {
    super(message, cause);
    // Whoever does not wait for the outcome must not get an unhandled rejection for it.
    settled.catch(() => undefined);
  }
}

/** A commit for partitions this member no longer owns (rebalanced, stopped); records will be redelivered. */
export class CommitRejected extends AppError {
  constructor(message: string, details?: unknown) {
    super("CONFLICT", message, details);
  }
}

/** The file log found a damaged record that is not a torn tail; names the file and byte position. */
export class CorruptLog extends AppError {
  constructor(
    readonly file: string,
    readonly position: number,
    reason: string,
  ) {
    super("INTERNAL", `corrupt event log ${file} at byte ${position}: ${reason}`, {
      file,
      position,
    });
  }
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's legal topic names (also safe as directory names: `.` and `..` are refused). */
export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== "." && name !== "..";
}

/** Serialises an outgoing value: Buffers as-is, everything else as JSON. Throws a clear TypeError. */
/**
 * A message value as JSON text. Adapters keep it as text where they can: the file log stores it
 * inline (no bytes round trip, no escaping), kafkajs sends it as it is.
 */
export function encodeJsonValue(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`message value is not JSON-serialisable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (json === undefined)
    throw new TypeError("message value is not JSON-serialisable (undefined or a function)");
  return json;
}

export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Records not yet processed by the group, per partition (no commit counts as from offset 0). */
export function consumerLag(
  committed: readonly CommittedOffset[],
  end: readonly PartitionOffset[],
): PartitionOffset[] {
  return end.map(({ partition, offset }) => {
    const done = committed.find((c) => c.partition === partition)?.offset ?? "0";
    const lag = BigInt(offset) - BigInt(done);
    return { partition, offset: (lag > 0n ? lag : 0n).toString() };
  });
}

/**
 * Kafka's default partitioner (Java client and kafkajs DefaultPartitioner): murmur2 of the UTF-8
 * key, made positive, modulo the partition count. Both adapters use it, so a key maps to the same
 * partition number in embedded mode and on Kafka.
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, "utf8")) & 0x7fffffff) % partitions;
}

function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[whole + 1] ?? 0) << 8;
  if (rest >= 1) {
    h ^= data[whole] ?? 0;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Refuses a topic name neither adapter could store, naming it. */
export function checkTopicName(name: string): void {
  if (typeof name !== "string" || !isValidTopicName(name))
    throw new BadInput(
      `invalid topic name ${JSON.stringify(name)}: use letters, digits, ".", "_", "-"`,
    );
}

/** Validates and encodes one outgoing message the same way for every adapter. */
export function encodeOutgoing(
  message: OutgoingMessage,
  index: number,
): { key: string; value: Buffer | string; timestamp: number } {
  if (typeof message?.key !== "string" || message.key.length === 0)
    throw new BadInput(`message ${index}: key must be a non-empty string`);
  if (message.timestamp !== undefined && !Number.isFinite(message.timestamp))
    throw new BadInput(`message ${index}: timestamp must be ms since the epoch`);
  let value: Buffer | string;
  try {
    value = Buffer.isBuffer(message.value)
      ? message.value
      : message.value instanceof JsonText
        ? message.value.text
        : encodeJsonValue(message.value);
  } catch (error) {
    throw new BadInput(`message ${index}: ${(error as Error).message}`);
  }
  return { key: message.key, value, timestamp: message.timestamp ?? Date.now() };
}
