import type { ServingMetrics } from "./metrics.ts";
import type { LoadedModel, Ranked, ScoreRequest } from "./model-pool.ts";

export interface BatchingOptions {
  /** How long the first request of a batch waits for company (ms, ≤ 2; 0 = no batching). */
  windowMs: number;
  /** A batch runs as soon as it holds this many requests. */
  maxBatch: number;
}

interface Pending {
  request: ScoreRequest;
  k: number;
  resolve: (ranked: Ranked) => void;
  reject: (error: unknown) => void;
}

interface Queue {
  model: LoadedModel;
  pending: Pending[];
  timer?: NodeJS.Timeout;
  /** The window ended while a batch of this model was running: go as soon as it is done. */
  due?: boolean;
}

/**
 * Dynamic batching: concurrent requests for one model that arrive within `windowMs` run as one
 * inference (with the largest k, each answer cut to its own k). While a batch of the model is
 * running, a window that ends keeps gathering until that batch is done: sent earlier, it would
 * only wait in the inference thread's queue, and many small batches waste the time one large
 * batch saves (at 100k items, a batch of 32 costs about as much as four single requests). A full
 * batch always goes at once. If a batch fails, each request is retried alone so one bad request
 * cannot fail its neighbours.
 */
export class InferenceBatcher {
  private readonly queues = new Map<string, Queue>();
  /** Batches running per model key. */
  private readonly running = new Map<string, number>();

  constructor(
    private readonly options: BatchingOptions,
    private readonly metrics: ServingMetrics,
  ) {
    if (options.windowMs < 0 || options.windowMs > 2)
      throw new RangeError("batching windowMs must be within 0..2");
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError("maxBatch must be ≥ 1");
  }

  score(model: LoadedModel, request: ScoreRequest, k: number): Promise<Ranked> {
    if (this.options.windowMs === 0 || this.options.maxBatch === 1) {
      return this.run(model, [request], k).then((ranked) => ranked[0]!);
    }
    return new Promise<Ranked>((resolve, reject) => {
      let queue = this.queues.get(model.key);
      if (!queue || queue.model !== model) {
        queue = { model, pending: [] };
        this.queues.set(model.key, queue);
      }
      queue.pending.push({ request, k, resolve, reject });
      if (queue.pending.length >= this.options.maxBatch) this.flush(model.key);
      else if (!queue.due)
        queue.timer ??= setTimeout(() => this.windowEnded(model.key), this.options.windowMs);
    });
  }

  private windowEnded(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    queue.timer = undefined;
    if ((this.running.get(key) ?? 0) > 0) queue.due = true;
    else this.flush(key);
  }

  private flush(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    this.queues.delete(key);
    clearTimeout(queue.timer);
    const { model, pending } = queue;
    const k = Math.max(...pending.map((p) => p.k));
    this.run(
      model,
      pending.map((p) => p.request),
      k,
    ).then(
      (ranked) => pending.forEach((p, i) => p.resolve(cut(ranked[i]!, p.k))),
      (error: unknown) => {
        if (pending.length === 1) return pending[0]!.reject(error);
        for (const p of pending) void this.retryAlone(model, p);
      },
    );
  }

  private retryAlone(model: LoadedModel, p: Pending): Promise<void> {
    return this.run(model, [p.request], p.k).then(
      (ranked) => p.resolve(ranked[0]!),
      (error: unknown) => p.reject(error),
    );
  }

  private async run(model: LoadedModel, requests: ScoreRequest[], k: number): Promise<Ranked[]> {
    const { key } = model;
    const stop = this.metrics.inferenceDuration.startTimer({ model: key });
    this.metrics.batchSize.observe({ model: key }, requests.length);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await model.with((m) => m.recommend(requests, k));
    } finally {
      stop();
      const left = this.running.get(key)! - 1;
      if (left > 0) this.running.set(key, left);
      else {
        this.running.delete(key);
        if (this.queues.get(key)?.due) this.flush(key);
      }
    }
  }
}

function cut(ranked: Ranked, k: number): Ranked {
  return ranked.itemIndices.length <= k
    ? ranked
    : { itemIndices: ranked.itemIndices.slice(0, k), scores: ranked.scores.slice(0, k) };
}
