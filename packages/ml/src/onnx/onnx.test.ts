import { afterEach, describe, expect, it } from "vitest";
import type { ItemItemParams, ModelParams } from "../params.ts";
import {
  type ExportOptions,
  exportOnnx,
  ITEM_ITEM_SEGMENT_COST,
  itemItemLayout,
} from "./graphs.ts";
import {
  randomFactorParams,
  randomHistory,
  randomItemItemParams,
  randomPopularityParams,
} from "./random-params.ts";
import { referenceScores, topK } from "./reference.ts";
import {
  type RecommendRequest,
  type Scorer,
  type ScorerSource,
  createOnnxScorer,
} from "./session.ts";
import { referenceInput, verifyExport } from "./verify.ts";

const N_USERS = 40;
const N_ITEMS = 300;
const history = randomHistory(N_USERS, N_ITEMS, 12);
const open: Scorer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.release()));
});

async function scorerFor(
  params: ModelParams,
  options: ExportOptions = {},
): Promise<{ source: ScorerSource; scorer: Scorer }> {
  const graph = exportOnnx(params, options);
  const source: ScorerSource = {
    kind: params.kind,
    modelBytes: graph.bytes,
    nItems: params.nItems,
    nUsers: params.kind === "factors" ? params.nUsers : N_USERS,
    factors: params.kind === "factors" ? params.factors : undefined,
    contexts: graph.contexts,
    trainHistory: history,
  };
  const scorer = await createOnnxScorer(source);
  open.push(scorer);
  return { source, scorer };
}

/** Every item's score, by asking for all of them with nothing excluded. */
async function fullScores(scorer: Scorer, req: RecommendRequest): Promise<Float64Array> {
  const [r] = await scorer.recommend([req], N_ITEMS);
  const out = new Float64Array(N_ITEMS).fill(NaN);
  r!.itemIndices.forEach((j, c) => (out[j] = r!.scores[c]!));
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * An item-item export against the reference: every score of an ad-hoc weighted history to 1e-5
 * (its own items are excluded, so compared as 0), and the top-20 of every training user.
 */
async function expectExactItemItem(
  params: ItemItemParams,
  hist: number[],
  weights: number[],
  options: ExportOptions = {},
): Promise<void> {
  const { source, scorer } = await scorerFor(params, options);
  const all = await fullScores(scorer, {
    historyIndices: hist,
    historyWeights: weights,
    exclude: [],
  });
  const ref = referenceScores(params, { kind: "item-item", history: hist, weights });
  const mask = (a: ArrayLike<number>) => Array.from(a).map((v, j) => (hist.includes(j) ? 0 : v));
  expect(maxDiff(mask(all), mask(ref))).toBeLessThan(1e-5);
  const batch = Array.from({ length: N_USERS }, (_, u): RecommendRequest => ({ userIndex: u }));
  batch.push({ historyIndices: hist, historyWeights: weights }, { historyIndices: [] });
  const check = await verifyExport(params, source, scorer, batch, 20);
  expect(check.mismatches).toEqual([]);
}

describe("ONNX export equals the TypeScript reference", () => {
  it("factors: known users and explicit vectors in one batch, every score to 1e-5, same top-10", async () => {
    const params = randomFactorParams(N_USERS, N_ITEMS, 16);
    const { source, scorer } = await scorerFor(params);
    const vector = Array.from({ length: 16 }, (_, d) => Math.sin(d));
    const all = await fullScores(scorer, { userVector: vector });
    expect(maxDiff(all, referenceScores(params, { kind: "factors", vector }))).toBeLessThan(1e-5);

    const batch: RecommendRequest[] = [
      { userIndex: 3 },
      { userVector: vector, exclude: [1, 2, 3] },
      { userIndex: 17, exclude: [5] },
      { userVector: params.userFactors.subarray(16 * 5, 16 * 6) },
    ];
    const check = await verifyExport(params, source, scorer, batch, 10);
    expect(check.mismatches).toEqual([]);
    expect(check.maxAbsDiff).toBeLessThan(1e-5);
    // known user 5 by index and by vector must agree exactly in ranking
    const [byIndex, byVector] = await scorer.recommend(
      [{ userIndex: 5 }, { userVector: params.userFactors.subarray(80, 96) }],
      10,
    );
    const seen = Array.from(history.indices.subarray(history.indptr[5]!, history.indptr[6]!));
    expect(byIndex!.itemIndices.some((j) => seen.includes(j))).toBe(false);
    expect(byVector!.itemIndices.filter((j) => !seen.includes(j)).slice(0, 5)).toEqual(
      byIndex!.itemIndices.slice(0, 5),
    );
  });

  it("item-item: sparse neighbour scoring is exact for users and ad-hoc weighted histories", async () => {
    await expectExactItemItem(randomItemItemParams(N_ITEMS, 25), [4, 9, 150, 299], [1, 0.5, 2, 1]);
  });

  it("item-item by rows or columns: a history item whose row spans the catalogue is scored exactly either way", async () => {
    // Top-k per candidate keeps columns short while a popular item's row spans every item: past a
    // size the graph stores the unpadded rows and the columns (the padded rows are nItems wide),
    // and each run reads whichever is cheaper for its histories.
    const base = randomItemItemParams(N_ITEMS, 4, 9);
    const popular = 7;
    const lonely = 11; // no neighbours at all: an empty row amid the history's
    const rows: { indices: number[]; weights: number[] }[] = [];
    for (let i = 0; i < N_ITEMS; i++) {
      const start = base.indptr[i]!;
      const end = base.indptr[i + 1]!;
      rows.push(
        i === popular
          ? {
              indices: Array.from({ length: N_ITEMS }, (_, j) => j).filter((j) => j !== popular),
              weights: Array.from({ length: N_ITEMS - 1 }, (_, j) => 0.01 + (j % 13) / 10),
            }
          : i === lonely
            ? { indices: [], weights: [] }
            : {
                indices: Array.from(base.indices.subarray(start, end)),
                weights: Array.from(base.weights.subarray(start, end)),
              },
      );
    }
    const indptr = new Int32Array(N_ITEMS + 1);
    rows.forEach((row, i) => (indptr[i + 1] = indptr[i]! + row.indices.length));
    const params: ItemItemParams = {
      kind: "item-item",
      nItems: N_ITEMS,
      indptr,
      indices: Int32Array.from(rows.flatMap((r) => r.indices)),
      weights: Float32Array.from(rows.flatMap((r) => r.weights)),
    };
    // 300 × 299 padded slots are 0.7 MB of rows: small enough to keep by default.
    expect(itemItemLayout(params)).toBe("rows");
    expect(itemItemLayout(params, 100_000)).toBe("sparse");
    expect(itemItemLayout(base, 100_000)).toBe("rows"); // its rows are no wider than its columns
    // Rows always (cost 0), the default choice, columns always (a cost no history reaches). Repeated
    // history items add up, as Σ_h w_h · S[h, :] says; the lonely item adds nothing.
    for (const cost of [0, ITEM_ITEM_SEGMENT_COST, Number.MAX_SAFE_INTEGER]) {
      const options = { itemItemRowsMaxBytes: 100_000, itemItemSegmentCost: cost };
      await expectExactItemItem(
        params,
        [popular, 9, lonely, 150, 9],
        [1, 0.5, 3, 2, 0.25],
        options,
      );
      // A run whose histories are all empty or without neighbours reads nothing and still answers.
      const { scorer } = await scorerFor(params, options);
      const answers = await scorer.recommend(
        [
          { historyIndices: [] },
          { historyIndices: [lonely] },
          { historyIndices: [lonely, lonely] },
        ],
        3,
      );
      // Alone too: a run of one empty history (no slot at all) once divided by zero in the graph.
      answers.push(...(await scorer.recommend([{ historyIndices: [] }], 3)));
      for (const answer of answers) {
        expect(answer.scores).toEqual([0, 0, 0]);
        expect(answer.itemIndices).toEqual([0, 1, 2]); // ties: lower index first (TopK)
      }
    }
  });

  it("popularity: context rows, unknown context falls back to global, seen items excluded", async () => {
    const params = randomPopularityParams(N_ITEMS, ["device=mobile", "country=FR"]);
    const { source, scorer } = await scorerFor(params);
    const mobile = await fullScores(scorer, { context: "device=mobile" });
    expect(maxDiff(mobile, params.scores["device=mobile"]!)).toBe(0);
    const batch: RecommendRequest[] = [
      {},
      { context: "country=FR", userIndex: 7 },
      { context: "nowhere" },
      { userIndex: 0 },
    ];
    const check = await verifyExport(params, source, scorer, batch, 15);
    expect(check.mismatches).toEqual([]);
    const [global, unknown] = await scorer.recommend([{}, { context: "nowhere" }], 15);
    expect(unknown).toEqual(global);
  });

  it("returns fewer than k items when exclusions leave fewer, never an excluded one", async () => {
    const params = randomPopularityParams(N_ITEMS, []);
    const { scorer } = await scorerFor(params);
    const exclude = Array.from({ length: N_ITEMS - 3 }, (_, j) => j + 3);
    const [r] = await scorer.recommend([{ exclude }], 10);
    expect([...r!.itemIndices].sort()).toEqual([0, 1, 2]);
    const want = topK(params.scores[""]!, 10, exclude);
    expect(r!.itemIndices).toEqual(want.itemIndices);
  });

  it("excludes given as an Int32Array, repeated and overlapping the training history, each request on its own", async () => {
    const params = randomFactorParams(N_USERS, N_ITEMS, 16);
    const { scorer } = await scorerFor(params);
    const trained = (u: number) =>
      Array.from(history.indices.subarray(history.indptr[u]!, history.indptr[u + 1]!));
    const expected = (u: number, extra: number[]) => {
      const scores = referenceScores(params, {
        kind: "factors",
        vector: params.userFactors.subarray(16 * u, 16 * (u + 1)),
      });
      return topK(scores, 10, [...trained(u), ...extra]).itemIndices;
    };
    // User 7 excludes user 8's ten best twice over, plus its own history again; user 8, next in the
    // same batch, excludes nothing beyond its history: what one request excluded must not leak.
    const best8 = expected(8, []);
    const repeated = Int32Array.from([...best8, ...trained(7), ...best8, 0, 0]);
    const [r7, r8] = await scorer.recommend(
      [
        { userIndex: 7, exclude: repeated },
        { userIndex: 8, exclude: new Int32Array(0) },
      ],
      10,
    );
    expect(r7!.itemIndices).toEqual(expected(7, [...best8, 0]));
    expect(r8!.itemIndices).toEqual(best8);
  });

  it("exclusion padding leaves item 0 alone: a row without exclusions still gets the best item 0", async () => {
    const params = randomPopularityParams(N_ITEMS, []);
    params.scores[""]![0] = 1000; // item 0 is the global favourite
    const { scorer } = await scorerFor(params);
    const [padded, excluding] = await scorer.recommend([{}, { exclude: [0, 5, 6, 7] }], 3);
    expect(padded!.itemIndices[0]).toBe(0);
    expect(padded!.scores[0]).toBe(1000);
    expect(excluding!.itemIndices).not.toContain(0);
  });

  it("reference helper maps known users to their factor rows", () => {
    const params = randomFactorParams(3, 5, 2);
    const input = referenceInput(params, { kind: "factors", userIndex: 2 });
    expect(input.kind === "factors" && Array.from(input.vector)).toEqual(
      Array.from(params.userFactors.subarray(4, 6)),
    );
  });

  it("rejects out-of-range indices and a released scorer with clear errors", async () => {
    const params = randomFactorParams(N_USERS, N_ITEMS, 8);
    const { scorer } = await scorerFor(params);
    await expect(scorer.recommend([{ userIndex: N_USERS }], 5)).rejects.toThrow(
      /userIndex 40 is outside 0..39/,
    );
    await expect(scorer.recommend([{ userIndex: 0, exclude: [N_ITEMS] }], 5)).rejects.toThrow(
      /item index 300/,
    );
    await expect(scorer.recommend([{ userVector: [1, 2] }], 5)).rejects.toThrow(
      /2 values, the model has 8 factors/,
    );
    await scorer.release();
    await expect(scorer.recommend([{ userIndex: 0 }], 5)).rejects.toThrow(/released/);
  });

  it("refuses params whose shapes disagree before writing any graph", () => {
    const params = randomFactorParams(4, 6, 3);
    expect(() => exportOnnx({ ...params, nItems: 7 })).toThrow(/itemFactors length/);
    const bad = randomFactorParams(4, 6, 3);
    bad.itemFactors[2] = NaN;
    expect(() => exportOnnx(bad)).toThrow(/NaN/);
  });
});
