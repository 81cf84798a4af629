/**
 * The real recommenders (models/) trained on a small structured data set, published to a registry
 * and served through ONNX: every kind must equal the TypeScript reference scorer (models/score.ts)
 * to 1e-5 with the same top-k, fold-in users included.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Interactions, LogBuilder, buildInteractions, seededRandom } from "../data/index.ts";
import { fitModel, foldInUser, recommend, scoreUser, userHistory } from "../models/index.ts";
import type { ModelParams } from "../params.ts";
import { publishVersion } from "../registry/store.ts";
import { createScorer } from "./scorer.ts";

const N_USERS = 120;
const N_ITEMS = 80;
let train: Interactions;
let registryDir: string;

/** Users prefer one of four item groups (so models learn structure), with device context on events. */
function structuredData(): Interactions {
  const rnd = seededRandom(7);
  const log = new LogBuilder();
  for (let u = 0; u < N_USERS; u++) {
    const group = u % 4;
    const count = 5 + rnd.int(15);
    for (let n = 0; n < count; n++) {
      const inGroup = rnd.next() < 0.8;
      const item = inGroup ? group * 20 + rnd.int(20) : rnd.int(N_ITEMS);
      log.add(`u${u}`, `i${item}`, 1 + rnd.int(5), 1_600_000_000 + rnd.int(1_000_000), {
        device: u % 3 === 0 ? "mobile" : "tv",
      });
    }
  }
  return buildInteractions(log.finish());
}

beforeAll(async () => {
  train = structuredData();
  registryDir = await mkdtemp(path.join(tmpdir(), "reco-real-models-"));
});
afterAll(async () => {
  await rm(registryDir, { recursive: true, force: true });
});

async function publish(
  kind: string,
  hyper: Record<string, unknown>,
): Promise<{ dir: string; params: ModelParams }> {
  const { model } = await fitModel(kind, train, hyper);
  const { dir } = await publishVersion({
    registryDir,
    name: kind,
    algorithm: kind,
    params: model,
    idMaps: train.ids,
    trainHistory: train.userItems,
    data: {
      source: "synthetic",
      from: null,
      to: null,
      nUsers: train.nUsers,
      nItems: train.nItems,
      nInteractions: 0,
    },
  });
  return { dir, params: model };
}

function expectClose(
  got: { itemIndices: number[]; scores: number[] },
  want: { items: ArrayLike<number> },
  ref: Float32Array,
) {
  expect(got.itemIndices.length).toBe(want.items.length);
  got.itemIndices.forEach((item, c) => {
    expect(Math.abs(got.scores[c]! - ref[item]!)).toBeLessThan(1e-5);
    const wanted = want.items[c]!;
    // Same item, or a tie in the reference (float sums may order exact ties either way).
    if (item !== wanted) expect(Math.abs(ref[item]! - ref[wanted]!)).toBeLessThan(1e-5);
  });
}

describe("trained models served through ONNX equal the reference scorer", () => {
  for (const [kind, hyper] of [
    ["popularity", {}],
    ["trending", { halfLifeDays: 3 }],
    ["item-knn", { neighbours: 15 }],
    ["item-knn", { neighbours: 15, prune: "row", normalize: "on" }],
    ["item-knn", { neighbours: 15, alpha: 0.8, popularityPenalty: 0.4, shrink: 3 }],
    ["item-knn", { neighbours: 7, alpha: 0.2, popularityPenalty: 0.9, prune: "row" }],
    ["item-knn", { neighbours: 7, alpha: 0.7, prune: "column", normalize: "on" }],
    ["rp3beta", { neighbours: 15 }],
    ["rp3beta", { neighbours: 15, prune: "column", normalize: "on" }],
    ["rp3beta", { neighbours: 9, prune: "column", normalize: "off", beta: 0.8 }],
    ["rp3beta", { neighbours: 9, prune: "row", normalize: "on", alpha: 1.3 }],
    ["p3alpha", {}],
    ["p3alpha", { neighbours: 12, prune: "row", normalize: "off", alpha: 0.5 }],
    ["ials", { factors: 8, epochs: 4, threads: 1 }],
    ["ease", { lambda: 20, neighbours: 30 }],
  ] as const) {
    const variant = Object.entries(hyper)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ");
    it(`${kind} ${variant}: every training user, top-10, scores to 1e-5`, async () => {
      const { dir, params } = await publish(kind, hyper);
      const scorer = await createScorer(dir);
      try {
        const users = Array.from({ length: N_USERS }, (_, u) => u);
        const context =
          kind === "popularity" || kind === "trending" ? { device: "mobile" } : undefined;
        const got = await scorer.recommend(
          users.map((u) => ({ userIndex: u, context })),
          10,
        );
        for (const u of users) {
          const history = userHistory(train, u);
          const query = { userIndex: u, history, context };
          const ref = scoreUser(params, query);
          expectClose(got[u]!, recommend(params, query, 10), ref);
        }
        if (params.kind === "item-item") {
          // users the model never saw: their histories alone, at two cut-offs
          const histories = [[0], [3, 17, 41], [20, 21, 25, 30, 33, 60, 79], [79, 1]];
          for (const k of [10, 40]) {
            const fresh = await scorer.recommend(
              histories.map((items) => ({ historyIndices: items })),
              k,
            );
            histories.forEach((items, n) => {
              const query = { history: { items: Int32Array.from(items) } };
              expectClose(fresh[n]!, recommend(params, query, k), scoreUser(params, query));
            });
          }
        }
      } finally {
        await scorer.release();
      }
    });
  }

  it("ials fold-in: a new user's history through the artifact equals the reference fold-in", async () => {
    const { dir, params } = await publish("ials", { factors: 8, epochs: 4, threads: 1 });
    const scorer = await createScorer(dir);
    try {
      const history = ["i20", "i21", "i25", "i30", "i33"].map((id) => train.ids.items.indexOf(id)); // group 1
      expect(history.every((j) => j >= 0)).toBe(true);
      const [r] = await scorer.recommend([{ historyIndices: history }], 10);
      if (params.kind !== "factors") throw new Error("ials must export factors");
      const vector = foldInUser(params, history);
      const ref = scoreUser({ ...params, userFactors: vector, nUsers: 1 }, { userIndex: 0 });
      expectClose(
        r!,
        recommend({ ...params, userFactors: vector, nUsers: 1 }, { userIndex: 0 }, 10, history),
        ref,
      );
      // the new user is served the group its history came from
      expect(
        r!.itemIndices.filter((j) => train.ids.items[j]!.match(/^i(2\d|3\d)$/)).length,
      ).toBeGreaterThanOrEqual(6);
    } finally {
      await scorer.release();
    }
  });
});
