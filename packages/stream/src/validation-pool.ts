import { ThreadCalls, typeScriptWorker } from "@reco/contracts";
import { validatePacked, type ValidationReply, type ValidationRequest } from "./validation.ts";

/**
 * Validation (JSON parse + zod) on a worker thread, so it overlaps with fetching and writing on
 * the main thread: about half of the worker's CPU per record. Replies come back in request order.
 * With `threads: 0` validation runs inline.
 */
export class ValidationPool {
  private constructor(private readonly thread: ThreadCalls<ValidationReply> | null) {}

  static create(threads: number): ValidationPool {
    if (threads <= 0) return new ValidationPool(null);
    const worker = typeScriptWorker(new URL("./validation-entry.ts", import.meta.url));
    return new ValidationPool(new ThreadCalls(worker, "validation thread"));
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
    const request: Omit<ValidationRequest, "id"> = { bytes, ends, keepEvents };
    if (!this.thread) return Promise.resolve(validatePacked({ ...request, id: 0 }));
    return this.thread.call(request, [bytes, ends.buffer]);
  }

  /** Resolves once the thread answers (it loads tsx, zod and the schemas first: about a second). */
  async ready(): Promise<void> {
    await this.validate([], false);
  }

  async close(): Promise<void> {
    await this.thread?.close(new Error("validation thread closed"));
  }
}
