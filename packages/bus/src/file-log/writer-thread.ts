import { ThreadCalls, typeScriptWorker } from "@reco/contracts";

/** One batch for one partition file, as the writer thread receives it. */
export interface AppendRequest {
  id: number;
  /** The partition log's append descriptor (descriptors are shared by all threads of a process). */
  fd: number;
  /** Durable size of the file: where the batch starts, and where a failed write is cut back to. */
  position: number;
  firstOffset: number;
  /** Byte positions are reported for offsets that are multiples of this (the read index). */
  indexEvery: number;
  /** The records as parallel arrays: cheaper to clone across threads than one object each. */
  keys: string[];
  values: (string | Uint8Array)[];
  timestamps: number[];
  /** fdatasync after the write (false: the log syncs on its own schedule, see PartitionLog). */
  sync: boolean;
}

export type AppendReply =
  | { id: number; ok: true; bytes: number; indexed: number[] }
  | { id: number; ok: false; message: string; truncated: boolean };

/**
 * Encoding, writing and fsyncing the embedded event log's records, off the event loop. Every
 * served recommendation appends two exposure events: done on the event loop, their encoding and
 * the write calls took about a tenth of its time at full load. One thread serves every log of the
 * process (writes of a partition are already one at a time); it starts on the first write, and
 * keeps the process alive only while a write is pending. If it dies, pending writes fail (the
 * caller rolls back as for any failed write) and the next write starts a new one.
 */
export class WriterThread {
  private thread: ThreadCalls<AppendReply> | null = null;

  append(request: Omit<AppendRequest, "id">): Promise<AppendReply> {
    if (!this.thread || this.thread.failure) {
      const worker = typeScriptWorker(new URL("./writer-thread-entry.ts", import.meta.url));
      this.thread = new ThreadCalls(worker, "event log writer thread", true);
    }
    return this.thread.call(request);
  }

  /** Stops the thread; pending writes fail as if it had died. The next append starts a new one. */
  async close(): Promise<void> {
    await this.thread?.worker.terminate();
  }
}

/** The process's writer thread, shared by every file log opened in it. */
export const writerThread = new WriterThread();
