import type { Worker } from "node:worker_threads";
import { typeScriptWorker } from "@reco/contracts";

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
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (reply: AppendReply) => void; reject: (error: Error) => void }
  >();

  append(request: Omit<AppendRequest, "id">): Promise<AppendReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request });
    });
  }

  /** Stops the thread; pending writes fail as if it had died. The next append starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = typeScriptWorker(new URL("./writer-thread-entry.ts", import.meta.url));
    worker.on("message", (reply: AppendReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      waiter?.resolve(reply);
    });
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on("error", lost);
    worker.on("exit", (code) =>
      lost(new Error(`event log writer thread exited with code ${code}`)),
    );
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** The process's writer thread, shared by every file log opened in it. */
export const writerThread = new WriterThread();
