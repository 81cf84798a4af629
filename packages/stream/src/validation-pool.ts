import type { Worker } from "node:worker_threads";
import { typeScriptWorker } from "@reco/contracts";
import { validatePacked, type ValidationReply, type ValidationRequest } from "./validation.ts";

/**
 * Validation (JSON parse + zod) on a worker thread, so it overlaps with fetching and writing on
 * the main thread: about half of the worker's CPU per record. Replies come back in request order.
 * With `threads: 0` validation runs inline.
 */
export class ValidationPool {
  private readonly pending = new Map<
    number,
    { resolve: (reply: ValidationReply) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker | null) {
    worker?.on("message", (reply: ValidationReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker?.on("error", fail);
    worker?.on("exit", (code) => fail(new Error(`validation thread exited with code ${code}`)));
    worker?.unref();
  }

  static create(threads: number): ValidationPool {
    if (threads <= 0) return new ValidationPool(null);
    return new ValidationPool(typeScriptWorker(new URL("./validation-entry.ts", import.meta.url)));
  }

  validate(values: readonly Buffer[], keepEvents: boolean): Promise<ValidationReply> {
    let total = 0;
    for (const value of values) total += value.byteLength;
    const bytes = new ArrayBuffer(total);
    const view = new Uint8Array(bytes);
    const ends = new Int32Array(values.length);
    let at = 0;
    values.forEach((value, i) => {
      view.set(value, at);
      at += value.byteLength;
      ends[i] = at;
    });
    const request: ValidationRequest = { id: this.nextId++, bytes, ends, keepEvents };
    if (!this.worker) return Promise.resolve(validatePacked(request));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker!.postMessage(request, [bytes, ends.buffer]);
    });
  }

  /** Resolves once the thread answers (it loads tsx, zod and the schemas first: about a second). */
  async ready(): Promise<void> {
    await this.validate([], false);
  }

  async close(): Promise<void> {
    this.worker?.removeAllListeners("exit");
    await this.worker?.terminate();
  }
}
