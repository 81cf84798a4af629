/**
 * One partition of the file log: an append-only file of records (see record.ts).
 *
 * Durability: appends queued while a write is in flight are coalesced (group commit) into ONE
 * write() followed by ONE fdatasync(); publishers resolve, and consumers see the records, only
 * after the fsync. So a consumer never processes (and commits past) a record that a crash could
 * still lose. A failed write is rolled back by truncating to the last written size.
 *
 * A log opened with `syncEveryMs` (records nobody was promised were kept: the api's exposure
 * telemetry) writes without the fdatasync and resolves its publishers once the bytes are written:
 * a killed process loses nothing (the kernel holds them), only a machine that loses power can. One
 * fdatasync every `syncEveryMs` then covers everything written before it, and only then do
 * consumers see those records, so the rule above still holds for them.
 *
 * Opening scans the whole file: a torn tail (partial last line, or zero-filled blocks) is
 * truncated and reported via `repairs`; any other damage throws CorruptLog naming the file and
 * byte position. A read-only handle (another process) never truncates: it just does not see a
 * tail that is still being written.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { CorruptLog } from "../port.ts";
import { HEADER_BYTES, isTornTail, parseRecord, type StoredRecord } from "./record.ts";
import { writerThread, type AppendReply } from "./writer-thread.ts";

const INDEX_EVERY = 256;
const SCAN_CHUNK = 4 * 1024 * 1024;

export interface TailRepair {
  file: string;
  position: number;
  truncatedBytes: number;
}

export interface PendingRecord {
  key: string;
  /** Bytes, or JSON text the producer serialised (stored inline). */
  value: Buffer | string;
  timestamp: number;
}

interface Waiter {
  records: PendingRecord[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class PartitionLog {
  /** Byte position of every INDEX_EVERY-th offset, so a read seeks close to its start. */
  private readonly index: number[] = [];
  /** What consumers see: the records made durable, and the file's size up to them. */
  private nextOffset = 0;
  private size = 0;
  /** Where the next write goes: ahead of the durable end while writes wait for a lazy sync. */
  private writtenOffset = 0;
  private writtenSize = 0;
  /** Read-index positions of written records not yet durable. */
  private unsyncedIndex: number[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private queue: Waiter[] = [];
  private flushing = false;
  private broken: Error | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly file: string,
    private readonly reader: FileHandle,
    private readonly writer: FileHandle | undefined,
    /** Lazy durability (see above); undefined: every write is made durable before it resolves. */
    private readonly syncEveryMs?: number,
  ) {}

  static async open(
    file: string,
    writable: boolean,
    repairs: TailRepair[],
    syncEveryMs?: number,
  ): Promise<PartitionLog> {
    if (writable) await (await open(file, "a")).close(); // create if missing
    const reader = await open(file, "r");
    try {
      const log = new PartitionLog(file, reader, undefined);
      const found = await log.scan(writable);
      if (writable && found.tornAt !== undefined) {
        const truncatedBytes = found.fileSize - found.tornAt;
        const fh = await open(file, "r+");
        try {
          await fh.truncate(found.tornAt);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        repairs.push({ file, position: found.tornAt, truncatedBytes });
      }
      if (!writable) return log;
      const writer = await open(file, "a");
      const writableLog = new PartitionLog(file, reader, writer, syncEveryMs);
      writableLog.adopt(log);
      return writableLog;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  get endOffset(): number {
    return this.nextOffset;
  }

  /** Registers a callback for new durable records; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  append(records: PendingRecord[]): Promise<void> {
    if (!this.writer) return Promise.reject(new Error(`event log ${this.file} is open read-only`));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** A read-only handle picks up records another process appended since the last look. */
  refresh(): Promise<void> {
    if (this.writer) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const { size } = await stat(this.file);
        if (size > this.size) await this.scan(false);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Records from `from` on, at most `maxRecords` and about `maxBytes` (always at least one). */
  async read(from: number, maxRecords: number, maxBytes = 1024 * 1024): Promise<StoredRecord[]> {
    if (from >= this.nextOffset) return [];
    const slot = Math.min(Math.floor(from / INDEX_EVERY), this.index.length - 1);
    let offset = slot * INDEX_EVERY;
    let position = this.index[slot] ?? 0;
    const out: StoredRecord[] = [];
    let want = maxBytes;
    while (out.length < maxRecords && offset < this.nextOffset) {
      const length = Math.min(Math.max(want, HEADER_BYTES), this.size - position);
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await this.reader.read(buf, 0, length, position);
      const chunk = buf.subarray(0, bytesRead);
      let at = 0;
      let progressed = false;
      while (out.length < maxRecords && offset < this.nextOffset) {
        const step = parseRecord(chunk, at, offset);
        if (step.kind === "incomplete") break;
        if (step.kind === "invalid")
          throw new CorruptLog(
            this.file,
            position + at,
            `${step.reason} (reading offset ${offset})`,
          );
        if (offset >= from) out.push(step.record);
        at += step.length;
        offset += 1;
        progressed = true;
      }
      position += at;
      if (out.length > 0 && (out.length >= maxRecords || at >= maxBytes)) break;
      if (!progressed) {
        // A record bigger than the read window: widen it, up to the end of the durable log.
        if (bytesRead < length || length >= this.size - position)
          throw new CorruptLog(
            this.file,
            position,
            "record extends past the end of the log (file changed by another program?)",
          );
        want *= 2;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.syncing;
    if (this.writtenOffset > this.nextOffset && !this.broken) await this.syncWritten();
    await this.writer?.close();
    await this.reader.close();
  }

  private adopt(from: PartitionLog): void {
    this.index.push(...from.index);
    this.nextOffset = this.writtenOffset = from.nextOffset;
    this.size = this.writtenSize = from.size;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0 && !this.broken) {
        const batch = this.queue;
        this.queue = [];
        await this.writeDurably(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private unusable(cause: unknown): Error {
    return new Error(`event log ${this.file} is unusable after a failed write; reopen it`, {
      cause,
    });
  }

  private async writeDurably(batch: Waiter[]): Promise<void> {
    const keys: string[] = [];
    const values: (string | Buffer)[] = [];
    const timestamps: number[] = [];
    for (const waiter of batch) {
      for (const record of waiter.records) {
        keys.push(record.key);
        values.push(record.value);
        timestamps.push(record.timestamp);
      }
    }
    let reply: AppendReply;
    try {
      reply = await writerThread.append({
        fd: this.writer!.fd,
        position: this.writtenSize,
        firstOffset: this.writtenOffset,
        indexEvery: INDEX_EVERY,
        keys,
        values,
        timestamps,
        sync: this.syncEveryMs === undefined,
      });
    } catch (cause) {
      // The thread died mid-write: what it wrote cannot be known, so nothing more is appended
      // to this handle; reopening truncates a partial record as a torn tail.
      this.broken = this.unusable(cause);
      for (const w of batch) w.reject(this.broken);
      return;
    }
    if (!reply.ok) {
      const cause = new Error(reply.message);
      const error = new Error(`append to event log ${this.file} failed: ${reply.message}`, {
        cause,
      });
      // Not cut back: the file may now hold a partial write, which reopening truncates.
      if (!reply.truncated) this.broken = this.unusable(cause);
      for (const w of batch) w.reject(error);
      return;
    }
    this.writtenOffset += keys.length;
    this.writtenSize += reply.bytes;
    if (this.syncEveryMs === undefined) {
      this.showDurable(this.writtenOffset, this.writtenSize, reply.indexed);
    } else {
      this.unsyncedIndex.push(...reply.indexed);
      if (!this.syncTimer) {
        this.syncTimer = setTimeout(() => {
          this.syncTimer = undefined;
          this.syncing = this.syncWritten().finally(() => (this.syncing = undefined));
        }, this.syncEveryMs);
        // Written bytes survive the process anyway; the sync need not hold it open.
        this.syncTimer.unref();
      }
    }
    for (const w of batch) w.resolve();
  }

  /** One fdatasync for everything written so far; consumers see those records once it returns. */
  private async syncWritten(): Promise<void> {
    // A write still under way is not covered: only what was written when the sync began is shown.
    const offset = this.writtenOffset;
    const size = this.writtenSize;
    const indexed = this.unsyncedIndex;
    this.unsyncedIndex = [];
    try {
      await this.writer!.datasync();
    } catch (cause) {
      this.broken ??= this.unusable(cause);
      return;
    }
    this.showDurable(offset, size, indexed);
  }

  /** Durable up to `offset` / `size`, with the read-index positions of the records made so. */
  private showDurable(offset: number, size: number, indexed: readonly number[]): void {
    this.index.push(...indexed);
    this.nextOffset = offset;
    this.size = size;
    for (const listener of this.listeners) listener();
  }

  /**
   * Validates records from the last scanned position to the end of the file. State (index,
   * end offset, size) is updated once per chunk, synchronously, so a concurrent `read` never
   * sees an end offset without the bytes behind it.
   */
  private async scan(writable: boolean): Promise<{ tornAt?: number; fileSize: number }> {
    const fileSize = (await this.reader.stat()).size;
    let carry = Buffer.alloc(0);
    let carryStart = this.size;
    let position = this.size;
    while (position < fileSize) {
      const length = Math.min(SCAN_CHUNK, fileSize - position);
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await this.reader.read(buf, 0, length, position);
      position += bytesRead;
      const chunk =
        carry.length > 0
          ? Buffer.concat([carry, buf.subarray(0, bytesRead)])
          : buf.subarray(0, bytesRead);
      const atEnd = position >= fileSize || bytesRead === 0;
      let at = 0;
      let offset = this.nextOffset;
      const indexed: number[] = [];
      const commit = () => {
        this.index.push(...indexed);
        this.nextOffset = this.writtenOffset = offset;
        this.size = this.writtenSize = carryStart + at;
      };
      while (at < chunk.length) {
        const step = parseRecord(chunk, at, offset);
        if (step.kind === "record") {
          if (offset % INDEX_EVERY === 0) indexed.push(carryStart + at);
          offset += 1;
          at += step.length;
          continue;
        }
        if (!atEnd && step.kind === "incomplete") break; // the record continues in the next chunk
        commit();
        if (atEnd && isTornTail(chunk, at))
          return { tornAt: writable ? this.size : undefined, fileSize };
        const reason =
          step.kind === "invalid" ? step.reason : "truncated record followed by more data";
        throw new CorruptLog(this.file, this.size, `${reason} (offset ${offset})`);
      }
      commit();
      carry = chunk.subarray(at);
      carryStart += at;
      if (atEnd) break;
    }
    return { fileSize };
  }
}
