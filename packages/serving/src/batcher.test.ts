import { describe, expect, it } from "vitest";
import { InferenceBatcher } from "./batcher.ts";
import { ServingMetrics } from "./metrics.ts";
import { LoadedModel, type Ranked, type ScoreRequest, type ServableModel } from "./model-pool.ts";

/** A tiny in-memory model: item j scores nItems - j; it records every batch it was asked to run. */
class RankingModel implements ServableModel {
  readonly kind = "factors" as const;
  readonly itemIds: string[];
  readonly userIds = ["u0", "u1", "u2"];
  readonly batches: { size: number; k: number }[] = [];
  released = false;
  constructor(
    readonly nItems: number,
    private readonly failWhen: (request: ScoreRequest) => boolean = () => false,
  ) {
    this.itemIds = Array.from({ length: nItems }, (_, j) => `i${j}`);
  }
  async recommend(batch: ScoreRequest[], k: number): Promise<Ranked[]> {
    this.batches.push({ size: batch.length, k });
    if (batch.some(this.failWhen)) throw new Error("bad request in batch");
    return batch.map((request) => {
      const excluded = new Set(request.exclude ?? []);
      const itemIndices = this.itemIds
        .map((_, j) => j)
        .filter((j) => !excluded.has(j))
        .slice(0, k);
      return { itemIndices, scores: itemIndices.map((j) => this.nItems - j) };
    });
  }
  async release(): Promise<void> {
    this.released = true;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ref = { name: "m", version: "v1", artifactPath: "/nowhere" };

describe("InferenceBatcher", () => {
  it("runs concurrent requests within the window as one inference and cuts each answer to its own k", async () => {
    const model = new RankingModel(50);
    const batcher = new InferenceBatcher(
      { windowMs: 2, maxBatch: 64 },
      new ServingMetrics({ defaultMetrics: false }),
    );
    const loaded = new LoadedModel(ref, model);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        batcher.score(loaded, { userIndex: 0, exclude: [i] }, 1 + (i % 4)),
      ),
    );
    expect(model.batches).toEqual([{ size: 10, k: 4 }]);
    answers.forEach((answer, i) => {
      expect(answer.itemIndices).toHaveLength(1 + (i % 4));
      expect(answer.itemIndices).not.toContain(i);
    });
  });

  it("starts a batch as soon as it is full", async () => {
    const model = new RankingModel(10);
    const batcher = new InferenceBatcher(
      { windowMs: 2, maxBatch: 4 },
      new ServingMetrics({ defaultMetrics: false }),
    );
    const loaded = new LoadedModel(ref, model);
    await Promise.all(Array.from({ length: 10 }, () => batcher.score(loaded, { userIndex: 1 }, 3)));
    expect(model.batches.map((b) => b.size)).toEqual([4, 4, 2]);
  });

  it("with batching off every request is its own inference", async () => {
    const model = new RankingModel(10);
    const batcher = new InferenceBatcher(
      { windowMs: 0, maxBatch: 32 },
      new ServingMetrics({ defaultMetrics: false }),
    );
    const loaded = new LoadedModel(ref, model);
    await Promise.all(Array.from({ length: 5 }, () => batcher.score(loaded, { userIndex: 1 }, 3)));
    expect(model.batches.map((b) => b.size)).toEqual([1, 1, 1, 1, 1]);
  });

  it("one bad request fails alone: its neighbours are retried one by one and answered", async () => {
    const model = new RankingModel(10, (request) => request.userIndex === 2);
    const batcher = new InferenceBatcher(
      { windowMs: 2, maxBatch: 32 },
      new ServingMetrics({ defaultMetrics: false }),
    );
    const loaded = new LoadedModel(ref, model);
    const results = await Promise.allSettled(
      [0, 1, 2, 0].map((userIndex) => batcher.score(loaded, { userIndex }, 2)),
    );
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
  });

  it("refuses a window over 2 ms", () => {
    expect(
      () =>
        new InferenceBatcher(
          { windowMs: 5, maxBatch: 8 },
          new ServingMetrics({ defaultMetrics: false }),
        ),
    ).toThrow(/0\.\.2/);
  });

  it("keeps gathering while a batch of the model runs, and sends what gathered as one batch when it is done", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const model = new RankingModel(20);
    const recommend = model.recommend.bind(model);
    // The first batch holds the (only) inference until the gate opens.
    model.recommend = async (batch, k) => {
      if (model.batches.length === 0) {
        const answer = recommend(batch, k);
        await gate;
        return answer;
      }
      return recommend(batch, k);
    };
    const batcher = new InferenceBatcher(
      { windowMs: 1, maxBatch: 64 },
      new ServingMetrics({ defaultMetrics: false }),
    );
    const loaded = new LoadedModel(ref, model);
    const first = batcher.score(loaded, { userIndex: 0 }, 3);
    await sleep(5); // its window ended: it runs, alone
    const later: Promise<Ranked>[] = [];
    for (let i = 0; i < 5; i++) {
      later.push(batcher.score(loaded, { userIndex: 1, exclude: [i] }, 3));
      await sleep(4); // each arrives after the previous one's window ended
    }
    expect(model.batches).toEqual([{ size: 1, k: 3 }]);
    open();
    await first;
    const answers = await Promise.all(later);
    expect(model.batches).toEqual([
      { size: 1, k: 3 },
      { size: 5, k: 3 },
    ]);
    answers.forEach((answer, i) => expect(answer.itemIndices).not.toContain(i));
  });
});
