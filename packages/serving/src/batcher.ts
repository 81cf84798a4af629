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

/**
 * Dynamic batching: concurrent requests for one model that arrive within `windowMs` run as one
 * inference (with the largest k, each answer cut to its own k). If the batch fails, each request
 * is retried alone so one bad request cannot fail its neighbours.
 */
export class InferenceBatcher {
  private readonly queues = new Map<
    string,
    { model: LoadedModel; pending: Pending[]; timer?: NodeJS.Timeout }
  >();

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
      else queue.timer ??= setTimeout(() => this.flush(model.key), this.options.windowMs);
    });
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
    const stop = this.metrics.inferenceDuration.startTimer({ model: model.key });
    this.metrics.batchSize.observe({ model: model.key }, requests.length);
    try {
      return await model.with((m) => m.recommend(requests, k));
    } finally {
      stop();
    }
  }
}

function cut(ranked: Ranked, k: number): Ranked {
  return ranked.itemIndices.length <= k
    ? ranked
    : { itemIndices: ranked.itemIndices.slice(0, k), scores: ranked.scores.slice(0, k) };
}
