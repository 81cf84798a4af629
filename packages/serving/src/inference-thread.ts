import type { Worker } from "node:worker_threads";
import { typeScriptWorker } from "@reco/contracts";
import type { ScorerOptions } from "@reco/ml";
import type { ModelLoader, ModelRef, Ranked, ScoreRequest, ServableModel } from "./model-pool.ts";

/** Messages to the inference thread (inference-thread-entry.ts). */
export type InferenceCall =
  | { type: "load"; ref: ModelRef }
  | { type: "recommend"; modelId: number; batch: ScoreRequest[]; k: number }
  | { type: "release"; modelId: number };

export interface LoadedInfo {
  modelId: number;
  kind: ServableModel["kind"];
  nItems: number;
  itemIds: string[];
  userIds: string[];
}

export type InferenceReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/**
 * ONNX sessions on their own thread. onnxruntime-node runs a session synchronously on the thread
 * that calls it: on the event loop, a 100k-item batch would hold every other request (cache hits,
 * health checks) for its whole duration. Here the event loop only sends the requests and receives
 * the ranked indices, and keeps answering meanwhile.
 * If the thread dies, the next call starts a new one and loads the model there again.
 */
export class InferenceThread {
  private worker: Worker | null = null;
  private generation = 0;
  private nextId = 0;
  private closed = false;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  constructor(private readonly scorerOptions: Pick<ScorerOptions, "sessionOptions"> = {}) {}

  /** A ModelLoader whose models live on this thread. */
  readonly loader: ModelLoader = (ref) => this.load(ref);

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      worker.removeAllListeners("exit");
      await worker.terminate();
    }
    this.failAll(new Error("inference thread closed"));
  }

  private async load(ref: ModelRef): Promise<ServableModel> {
    let info = (await this.call({ type: "load", ref })) as LoadedInfo;
    let generation = this.generation;
    const alive = () => generation === this.generation && this.worker !== null;
    return {
      kind: info.kind,
      nItems: info.nItems,
      itemIds: info.itemIds,
      userIds: info.userIds,
      recommend: async (batch: ScoreRequest[], k: number): Promise<Ranked[]> => {
        if (!alive()) {
          // The thread died since: load the same version into its successor first.
          info = (await this.call({ type: "load", ref })) as LoadedInfo;
          generation = this.generation;
        }
        const call = { type: "recommend", modelId: info.modelId, batch, k } as const;
        return (await this.call(call)) as Ranked[];
      },
      release: async (): Promise<void> => {
        if (!alive()) return;
        await this.call({ type: "release", modelId: info.modelId }).catch(() => undefined);
      },
    };
  }

  private call(message: InferenceCall): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("inference thread closed"));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = typeScriptWorker(new URL("./inference-thread-entry.ts", import.meta.url), {
      workerData: this.scorerOptions,
    });
    this.generation += 1;
    worker.on("message", (reply: InferenceReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!waiter) return;
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(Object.assign(new Error(reply.error.message), reply.error));
    });
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(error);
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`inference thread exited with code ${code}`)));
    worker.unref(); // never what keeps the process alive
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
