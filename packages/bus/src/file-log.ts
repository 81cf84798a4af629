/**
 * Embedded event bus: a file-backed, append-only, partitioned log under one directory.
 *
 *   <dir>/writer.lock                         pid of the single writer process
 *   <dir>/topics/<topic>/partitions.json      {"partitions": n}
 *   <dir>/topics/<topic>/<partition>.log      records, see file-log/record.ts
 *   <dir>/groups/<groupId>.json               committed offsets, see file-log/offsets-store.ts
 *
 * One process writes (it holds writer.lock; the embedded api hosts the bus). Another process may
 * open the same directory with `readOnly: true` to consume or inspect it: it never truncates or
 * writes a log, and polls for new records every `pollIntervalMs`.
 */
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BadInput, NotFound, processAlive } from "@reco/contracts";
import { replaceFileDurably, syncDirectory } from "./file-log/durable.ts";
import { ConsumerGroup, FileLogConsumer, type LogAccess } from "./file-log/group.ts";
import { OffsetsStore } from "./file-log/offsets-store.ts";
import { PartitionLog, type PendingRecord, type TailRepair } from "./file-log/partition-log.ts";
import {
  BusUnavailable,
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

export interface FileLogOptions {
  /** Directory of the log (the embedded default is `./.data/events`). */
  dir: string;
  logger?: BusLogger;
  /** Open another process's log without writing to it (no publish, no repairs). */
  readOnly?: boolean;
  /** Fallback wake-up of idle consumers; read-only handles rely on it (default 1000, read-only 100). */
  pollIntervalMs?: number;
  /**
   * Topics of records nobody is promised are kept (the api's exposure telemetry): a publish resolves
   * once written, without its own fdatasync, and one fdatasync every `everyMs` (default
   * LAZY_SYNC_MS) makes them durable and visible to consumers (see PartitionLog). A killed process
   * loses none of them; a machine losing power loses at most the last `everyMs`. Other topics are
   * made durable before each publish resolves.
   */
  lazySync?: { topics: readonly string[]; everyMs?: number };
}

/** How often lazily synced topics are made durable (FileLogOptions.lazySync). */
export const LAZY_SYNC_MS = 200;

/** Directories this process holds the writer lock of (a second writer in-process is refused too). */
const lockedHere = new Set<string>();

export async function openFileLogBus(options: FileLogOptions): Promise<FileLogBus> {
  const dir = resolve(options.dir);
  const readOnly = options.readOnly ?? false;
  // Checked before the writer lock is taken: a refused option leaves nothing held.
  const lazyTopics = options.lazySync?.topics ?? [];
  for (const topic of lazyTopics) checkTopicName(topic);
  const everyMs = options.lazySync?.everyMs ?? LAZY_SYNC_MS;
  if (!Number.isInteger(everyMs) || everyMs < 1 || everyMs > 60_000)
    throw new BadInput(`lazySync.everyMs must be an integer in 1..60000, got ${everyMs}`);
  if (!readOnly) {
    await mkdir(join(dir, "topics"), { recursive: true });
    await acquireWriterLock(dir);
  }
  return new FileLogBus(
    dir,
    readOnly,
    options.logger ?? silentLogger,
    options.pollIntervalMs ?? (readOnly ? 100 : 1000),
    new Map(lazyTopics.map((topic) => [topic, everyMs])),
  );
}

export class FileLogBus implements EventBus, LogAccess {
  readonly kind = "file-log";
  /** Torn tails truncated when partitions were opened (also logged as warnings). */
  readonly repairs: TailRepair[] = [];
  readonly offsets: OffsetsStore;
  private readonly topics = new Map<string, Promise<PartitionLog[]>>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly consumers = new Set<FileLogConsumer>();
  private closed = false;

  constructor(
    readonly dir: string,
    readonly readOnly: boolean,
    readonly logger: BusLogger,
    readonly pollIntervalMs: number,
    /** Lazily synced topics and their sync interval (FileLogOptions.lazySync). */
    private readonly lazySync: ReadonlyMap<string, number> = new Map(),
  ) {
    this.offsets = new OffsetsStore(join(dir, "groups"));
  }

  async ensureTopics(names: readonly string[], partitions = DEFAULT_PARTITIONS): Promise<void> {
    this.checkOpen();
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000)
      throw new BadInput(`partitions must be an integer in 1..1000, got ${partitions}`);
    for (const name of names) checkTopicName(name);
    for (const name of names) {
      const metaFile = join(this.topicDir(name), "partitions.json");
      if ((await readPartitionCount(metaFile)) === undefined) {
        if (this.readOnly)
          throw new BadInput(
            `cannot create topic ${name}: event log ${this.dir} is open read-only`,
          );
        // Partition files first, the metadata that makes the topic exist last.
        await mkdir(this.topicDir(name), { recursive: true });
        for (let p = 0; p < partitions; p++)
          await (await open(join(this.topicDir(name), `${p}.log`), "a")).close();
        await replaceFileDurably(metaFile, JSON.stringify({ partitions }));
        await syncDirectory(join(this.dir, "topics"));
      }
      await this.topic(name);
    }
  }

  publish(topic: string, message: OutgoingMessage): Promise<void> {
    return this.publishBatch(topic, [message]);
  }

  async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.checkOpen();
    if (this.readOnly)
      throw new BadInput(`cannot publish to ${topic}: event log ${this.dir} is open read-only`);
    const records = messages.map((m, i) => toPending(m, i));
    const logs = await this.topic(topic);
    const byPartition = new Map<number, PendingRecord[]>();
    for (const record of records) {
      const partition = partitionForKey(record.key, logs.length);
      const list = byPartition.get(partition) ?? [];
      list.push(record);
      byPartition.set(partition, list);
    }
    await Promise.all([...byPartition].map(([partition, list]) => logs[partition]!.append(list)));
  }

  consumer(options: ConsumerOptions): BusConsumer {
    this.checkOpen();
    if (!options.groupId) throw new BadInput("consumer groupId must be a non-empty string");
    if (options.topics.length === 0) throw new BadInput("consumer needs at least one topic");
    for (const topic of options.topics) checkTopicName(topic);
    let group = this.groups.get(options.groupId);
    if (!group) this.groups.set(options.groupId, (group = new ConsumerGroup(options.groupId)));
    const consumer = new FileLogConsumer(this, group, options);
    this.consumers.add(consumer);
    return consumer;
  }

  async committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]> {
    const logs = await this.topic(topic);
    const committed = (await this.offsets.read(groupId))[topic] ?? {};
    return logs.map((_, partition) => {
      const offset = committed[String(partition)];
      return { partition, offset: offset === undefined ? null : String(offset) };
    });
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const logs = await this.topic(topic);
    if (this.readOnly) await Promise.all(logs.map((log) => log.refresh()));
    return logs.map((log, partition) => ({ partition, offset: String(log.endOffset) }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.closed = true;
    const opened = await Promise.allSettled(this.topics.values());
    for (const result of opened)
      if (result.status === "fulfilled") await Promise.all(result.value.map((log) => log.close()));
    if (!this.readOnly) await releaseWriterLock(this.dir);
  }

  /** The partition logs of a topic, opened (and scanned) once. */
  topic(name: string): Promise<PartitionLog[]> {
    this.checkOpen();
    checkTopicName(name);
    let opening = this.topics.get(name);
    if (!opening) {
      opening = this.openTopic(name);
      this.topics.set(name, opening);
      opening.catch(() => this.topics.delete(name));
    }
    return opening;
  }

  private async openTopic(name: string): Promise<PartitionLog[]> {
    const partitions = await readPartitionCount(join(this.topicDir(name), "partitions.json"));
    if (partitions === undefined) throw new NotFound("topic", name);
    const before = this.repairs.length;
    const logs: PartitionLog[] = [];
    try {
      for (let p = 0; p < partitions; p++)
        logs.push(
          await PartitionLog.open(
            join(this.topicDir(name), `${p}.log`),
            !this.readOnly,
            this.repairs,
            this.lazySync.get(name),
          ),
        );
    } catch (error) {
      await Promise.all(logs.map((log) => log.close()));
      throw error;
    }
    for (const repair of this.repairs.slice(before))
      this.logger.warn({ ...repair }, "event log: torn tail truncated (a write was interrupted)");
    return logs;
  }

  private topicDir(name: string): string {
    return join(this.dir, "topics", name);
  }

  private checkOpen(): void {
    if (this.closed) throw new BusUnavailable(`event log ${this.dir} is closed`);
  }
}

function toPending(message: OutgoingMessage, index: number): PendingRecord {
  return encodeOutgoing(message, index);
}

async function readPartitionCount(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const partitions = (JSON.parse(text) as { partitions?: unknown }).partitions;
  if (typeof partitions !== "number" || !Number.isInteger(partitions) || partitions < 1)
    throw new Error(`${file}: "partitions" must be a positive integer`);
  return partitions;
}

async function acquireWriterLock(dir: string): Promise<void> {
  const lockFile = join(dir, "writer.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockFile, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      lockedHere.add(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
    const heldByLiveProcess =
      pid > 0 && (pid === process.pid ? lockedHere.has(dir) : processAlive(pid));
    if (heldByLiveProcess)
      throw new BusUnavailable(
        `event log ${dir} is already open for writing by process ${pid}; stop it, or open the log read-only`,
      );
    await unlink(lockFile).catch(() => undefined); // stale lock of a dead process
  }
  throw new BusUnavailable(`could not take the writer lock ${lockFile}`);
}

async function releaseWriterLock(dir: string): Promise<void> {
  lockedHere.delete(dir);
  const lockFile = join(dir, "writer.lock");
  const pid = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
  if (pid === process.pid) await unlink(lockFile).catch(() => undefined);
}
