import { errorFromFields, ThreadCalls, typeScriptWorker, type ErrorFields } from "@reco/contracts";
import type { ScorerOptions } from "@reco/ml";
import type { ModelLoader, ModelRef, Ranked, ScoreRequest, ServableModel } from "./model-pool.ts";

/** Messages to the inference thread (inference-thread-entry.ts). */
export type InferenceCall =
  | { type: "load"; ref: ModelRef }
  | { type: "recommend"; modelId: number; batch: ScoreRequest[]; k: number }
  | { type: "release"; modelId: number }
  /** every session released, then the thread exits (no reply) */
  | { type: "stop" };

export interface LoadedInfo {
  modelId: number;
  kind: ServableModel["kind"];
  nItems: number;
  itemIds: string[];
  userIds: string[];
  createdAt?: string;
}

export type InferenceReply =
  | { id: number; ok: true; result: unknown }
  /** A thrown error's name, message, code and stable `reason` (rebuilt by `errorFromFields`). */
  | { id: number; ok: false; error: ErrorFields };

/**
 * ONNX sessions on their own thread. onnxruntime-node runs a session synchronously on the thread
 * that calls it: on the event loop, a 100k-item batch would hold every other request (cache hits,
 * health checks) for its whole duration. Here the event loop only sends the requests and receives
 * the ranked indices, and keeps answering meanwhile.
 * If the thread dies, the next call starts a new one and loads the model there again.
 */
export class InferenceThread {
  private thread: ThreadCalls<InferenceReply> | null = null;
  private closed = false;

  constructor(private readonly scorerOptions: Pick<ScorerOptions, "sessionOptions"> = {}) {}

  /** A ModelLoader whose models live on this thread. */
  readonly loader: ModelLoader = (ref) => this.load(ref);

  /**
   * Refuses new calls, lets the calls in flight finish, then has the thread release its sessions
   * and exit by itself. A thread terminated from outside inside an ONNX run aborts the whole
   * process ("terminate called after throwing an instance of 'Napi::Error'"): terminate() is
   * only the fallback for a thread that does not exit within the timeout.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = null;
    if (!thread) return;
    const deadline = Date.now() + timeoutMs;
    await thread.drain(timeoutMs);
    await thread.closeGracefully(
      { type: "stop" } satisfies InferenceCall,
      new Error("inference thread closed"),
      Math.max(1_000, deadline - Date.now()),
    );
  }

  private async load(ref: ModelRef): Promise<ServableModel> {
    let info = (await this.call({ type: "load", ref })) as LoadedInfo;
    // The thread that holds the session: a successor has to load it again.
    let holder = this.thread;
    const alive = () => holder !== null && holder === this.thread && !holder.failure;
    return {
      kind: info.kind,
      nItems: info.nItems,
      itemIds: info.itemIds,
      userIds: info.userIds,
      ...(info.createdAt === undefined ? {} : { createdAt: info.createdAt }),
      recommend: async (batch: ScoreRequest[], k: number): Promise<Ranked[]> => {
        if (!alive()) {
          // The thread died since: load the same version into its successor first.
          info = (await this.call({ type: "load", ref })) as LoadedInfo;
          holder = this.thread;
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

  private async call(message: InferenceCall): Promise<unknown> {
    if (this.closed) throw new Error("inference thread closed");
    if (!this.thread || this.thread.failure) {
      const worker = typeScriptWorker(new URL("./inference-thread-entry.ts", import.meta.url), {
        workerData: this.scorerOptions,
      });
      this.thread = new ThreadCalls(worker, "inference thread");
    }
    const reply = await this.thread.call(message);
    if (reply.ok) return reply.result;
    // Rebuilt with its reason, which fallbackReason classifies on (the class stays on the thread).
    throw errorFromFields(reply.error);
  }
}
