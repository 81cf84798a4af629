import { ThreadCalls, typeScriptWorker } from "@reco/contracts";
import { validatePacked, type ValidationReply, type ValidationRequest } from "./validation.ts";

/**
 * Validation (JSON parse + zod) on worker threads, so it overlaps with fetching and writing on
 * the main thread: the largest share of the worker's CPU per record. Deliveries go to the threads
 * in turn; each call answers for its own delivery, and the caller appends them in delivery order.
 * With `threads: 0` validation runs inline.
 */
const NOTHING_KEPT = { events: false, features: false };

export class ValidationPool {
  private next = 0;

  private constructor(private readonly threads: ThreadCalls<ValidationReply>[]) {}

  static create(threads: number): ValidationPool {
    const calls: ThreadCalls<ValidationReply>[] = [];
    for (let i = 0; i < threads; i++) {
      const worker = typeScriptWorker(new URL("./validation-entry.ts", import.meta.url));
      calls.push(new ThreadCalls(worker, `validation thread ${i + 1}`));
    }
    return new ValidationPool(calls);
  }

  /** Threads validating (0: inline). */
  get size(): number {
    return this.threads.length;
  }

  /** `keep`: what to send back besides the verdicts (summaries, feature updates). */
  validate(
    values: readonly Buffer[],
    keep: { events: boolean; features: boolean } = NOTHING_KEPT,
  ): Promise<ValidationReply> {
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
    const request: Omit<ValidationRequest, "id"> = {
      bytes,
      ends,
      keepEvents: keep.events,
      keepFeatures: keep.features,
    };
    if (this.threads.length === 0) return Promise.resolve(validatePacked({ ...request, id: 0 }));
    const thread = this.threads[this.next]!;
    this.next = (this.next + 1) % this.threads.length;
    return thread.call(request, [bytes, ends.buffer]);
  }

  /** Resolves once every thread answers (each loads tsx, zod and the schemas first: about a second). */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map(() => this.validate([])));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.threads.map((thread) => thread.close(new Error("validation thread closed"))),
    );
  }
}
