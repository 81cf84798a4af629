/**
 * Consumer groups of the file log, inside one process. A group splits each topic's partitions
 * among the members subscribed to it (partition p → p-th member mod n, in join order). Every join
 * or leave is a rebalance, serialised per group: all members finish their in-flight batch, get
 * `onPartitionsRevoked` (awaited, so a commit there still works), then the new assignment, and
 * every assigned partition restarts at the group's committed offset (Kafka's eager protocol).
 */
import { BadInput } from "@reco/contracts";
import {
  CommitRejected,
  type BatchHandler,
  type BusConsumer,
  type BusLogger,
  type ConsumerOptions,
  type TopicPartition,
  type TopicPartitionOffset,
} from "../port.ts";
import type { OffsetsStore } from "./offsets-store.ts";
import type { PartitionLog } from "./partition-log.ts";

export interface LogAccess {
  topic(name: string): Promise<PartitionLog[]>;
  readonly offsets: OffsetsStore;
  readonly logger: BusLogger;
  /** Wake-up interval when no append notification arrives (reads from another process). */
  readonly pollIntervalMs: number;
  readonly readOnly: boolean;
}

const DEFAULT_MAX_BATCH = 500;
const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ConsumerGroup {
  private members: FileLogConsumer[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly groupId: string) {}

  join(member: FileLogConsumer): Promise<void> {
    return this.rebalance(() => this.members.push(member));
  }

  leave(member: FileLogConsumer): Promise<void> {
    return this.rebalance(() => (this.members = this.members.filter((m) => m !== member)));
  }

  private rebalance(change: () => void): Promise<void> {
    const run = this.chain.then(async () => {
      const before = [...this.members];
      for (const m of before) await m.quiesce();
      for (const m of before) await m.revokeAll();
      change();
      try {
        const plan = await this.plan();
        for (const m of this.members) await m.assign(plan.get(m) ?? []);
      } catch (error) {
        // No assignment possible (unreadable offsets file, vanished topic): nobody may go on
        // with a stale position, so every member stops and reports it.
        const members = this.members;
        this.members = [];
        for (const m of members) m.abandon(error as Error);
        throw error;
      }
      for (const m of this.members) m.resume();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async plan(): Promise<Map<FileLogConsumer, TopicPartition[]>> {
    const plan = new Map<FileLogConsumer, TopicPartition[]>(this.members.map((m) => [m, []]));
    const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const subscribers = this.members.filter((m) => m.topics.includes(topic));
      const partitions = (await subscribers[0]!.access.topic(topic)).length;
      for (let partition = 0; partition < partitions; partition++) {
        plan.get(subscribers[partition % subscribers.length]!)!.push({ topic, partition });
      }
    }
    return plan;
  }
}

export class FileLogConsumer implements BusConsumer {
  readonly topics: readonly string[];
  private handler: BatchHandler | undefined;
  private assigned: TopicPartition[] = [];
  private readonly positions = new Map<string, number>();
  private readonly seeks = new Map<string, number>();
  private generation = 0;
  private paused = true;
  private stopped = false;
  private joined = false;
  private step: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private cursor = 0;
  private unsubscribe: (() => void)[] = [];
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    readonly access: LogAccess,
    private readonly group: ConsumerGroup,
    private readonly options: ConsumerOptions,
  ) {
    this.topics = [...options.topics];
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.handler) throw new BadInput("consumer.run was already called");
    if (this.stopped) throw new BadInput("consumer was stopped; create a new one");
    for (const topic of this.topics) {
      for (const log of await this.access.topic(topic))
        this.unsubscribe.push(log.onAppend(() => this.wake()));
    }
    this.handler = handler;
    await this.group.join(this);
    this.joined = true;
    this.loopDone = this.loop();
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    // Ownership, not `stopped`, decides: a commit from onPartitionsRevoked during stop() works.
    if (!this.handler || (this.stopped && this.assigned.length === 0))
      throw new CommitRejected(
        `consumer of group ${this.group.groupId} is not running; its partitions may belong to another member`,
      );
    const updates = offsets.map(({ topic, partition, offset }) => {
      if (!this.owns(topic, partition))
        throw new CommitRejected(
          `${topic}[${partition}] is not assigned to this member of group ${this.group.groupId} (rebalanced); its records will be redelivered`,
        );
      return { topic, partition, offset: parseOffset(offset) };
    });
    await this.access.offsets.commit(this.group.groupId, updates);
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    if (!this.owns(topic, partition))
      throw new BadInput(
        `cannot seek ${topic}[${partition}]: not assigned to this member of group ${this.group.groupId}`,
      );
    const key = keyOf(topic, partition);
    this.positions.set(key, parseOffset(offset));
    this.seeks.set(key, (this.seeks.get(key) ?? 0) + 1);
    this.wake();
  }

  assignment(): TopicPartition[] {
    return this.assigned.map((tp) => ({ ...tp }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    if (this.handler) await this.group.leave(this);
    for (const off of this.unsubscribe) off();
    await this.loopDone;
  }

  /** Rebalance step 1: finish the in-flight batch and deliver nothing more until `resume`. */
  async quiesce(): Promise<void> {
    this.paused = true;
    await this.step?.catch(() => undefined);
  }

  /** Rebalance step 2: this member loses all its partitions (eager protocol). */
  async revokeAll(): Promise<void> {
    const revoked = this.assigned;
    if (revoked.length > 0)
      await this.callback("onPartitionsRevoked", () =>
        this.options.onPartitionsRevoked?.(revoked.map((tp) => ({ ...tp }))),
      );
    this.assigned = [];
    this.positions.clear();
    this.generation += 1;
  }

  /** Rebalance step 3: new partitions, each starting at the committed offset. */
  async assign(partitions: TopicPartition[]): Promise<void> {
    const committed = await this.access.offsets.read(this.group.groupId);
    for (const { topic, partition } of partitions) {
      const logs = await this.access.topic(topic);
      const start =
        committed[topic]?.[String(partition)] ??
        (this.options.startFrom === "latest" ? logs[partition]!.endOffset : 0);
      this.positions.set(keyOf(topic, partition), start);
    }
    this.assigned = partitions;
    this.generation += 1;
    if (partitions.length > 0)
      await this.callback("onPartitionsAssigned", () =>
        this.options.onPartitionsAssigned?.(partitions.map((tp) => ({ ...tp }))),
      );
  }

  /** The group could not assign partitions: stop without a rebalance of our own. */
  abandon(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.assigned = [];
    for (const off of this.unsubscribe) off();
    this.wake();
    if (this.joined) this.report(error); // a member still joining gets it from run()
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  private owns(topic: string, partition: number): boolean {
    return this.assigned.some((tp) => tp.topic === topic && tp.partition === partition);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        await this.sleep(this.access.pollIntervalMs);
        continue;
      }
      let delivered = false;
      this.step = this.deliverNext().then((d) => void (delivered = d));
      try {
        await this.step;
      } catch (error) {
        this.step = undefined;
        await this.crash(error as Error);
        return;
      }
      this.step = undefined;
      if (!delivered) await this.sleep(this.access.pollIntervalMs);
    }
  }

  /** Reads the next batch from an assigned partition (round robin) and hands it to the handler. */
  private async deliverNext(): Promise<boolean> {
    const generation = this.generation;
    const partitions = this.assigned;
    for (let i = 0; i < partitions.length; i++) {
      const { topic, partition } = partitions[(this.cursor + i) % partitions.length]!;
      const key = keyOf(topic, partition);
      const from = this.positions.get(key) ?? 0;
      const log = (await this.access.topic(topic))[partition]!;
      if (this.access.readOnly) await log.refresh();
      const records = await log.read(from, this.options.maxBatchSize ?? DEFAULT_MAX_BATCH);
      if (records.length === 0) continue;
      if (this.paused || this.stopped || generation !== this.generation) return false;
      this.cursor = (this.cursor + i + 1) % partitions.length;
      const seekCount = this.seeks.get(key);
      const messages = records.map((r) => ({
        offset: String(r.offset),
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
      }));
      await this.handler!({ topic, partition, messages });
      if (generation === this.generation && this.seeks.get(key) === seekCount)
        this.positions.set(key, records.at(-1)!.offset + 1);
      return true;
    }
    return false;
  }

  private async crash(error: Error): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    await this.group.leave(this).catch(() => undefined);
    this.report(error);
  }

  private report(error: Error): void {
    if (this.options.onCrash) this.options.onCrash(error);
    else
      this.access.logger.error(
        { err: error, groupId: this.group.groupId },
        "event-bus consumer crashed",
      );
  }

  private async callback(name: string, call: () => Promise<void> | void): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.access.logger.error(
        { err: error, groupId: this.group.groupId },
        `${name} callback failed`,
      );
    }
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  /** Waits for an append/resume/stop notification, or `ms` at most; a missed notification counts. */
  private sleep(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

function parseOffset(offset: string): number {
  if (typeof offset !== "string" || !/^\d{1,15}$/.test(offset))
    throw new BadInput(
      `offset must be a non-negative decimal string, got ${JSON.stringify(offset)}`,
    );
  return Number(offset);
}
