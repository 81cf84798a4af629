import { BadInput } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { LogBuilder } from "../data/log.ts";
import { buildInteractions } from "../data/interactions.ts";
import { seededRandom } from "../data/random.ts";
import type { ItemItemParams, PopularityParams } from "../params.ts";
import { InvalidHyperParameter, UnknownModelKind } from "./errors.ts";
import { fitModel, recommenderFor } from "./index.ts";
import { recommend, scoreUser } from "./score.ts";
import { topK } from "./top-k.ts";

function interactions(rows: [string, string, number?, number?, Record<string, string>?][]) {
  const builder = new LogBuilder();
  for (const [user, item, rating = Number.NaN, time = Number.NaN, context] of rows) {
    builder.add(user, item, rating, time, context);
  }
  return buildInteractions(builder.finish());
}

const weight = (params: ItemItemParams, from: number, to: number): number => {
  for (let n = params.indptr[from]!; n < params.indptr[from + 1]!; n++) {
    if (params.indices[n] === to) return params.weights[n]!;
  }
  return 0;
};

describe("topK", () => {
  it("matches a full sort (ties to the lower index) and skips -Infinity", () => {
    const random = seededRandom(3);
    const scores = Float32Array.from({ length: 500 }, () => Math.round(random.next() * 50));
    scores[7] = -Infinity;
    const expected = Array.from(scores.keys())
      .filter((i) => scores[i] !== -Infinity)
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, 20);
    expect(Array.from(topK(scores, 20).items)).toEqual(expected);
    expect(topK(Float32Array.from([1, -Infinity]), 5).items.length).toBe(1);
  });
});

describe("hyper-parameters", () => {
  it("refuses unknown kinds, unknown names and out-of-range values with clear messages", async () => {
    const train = interactions([["u", "a"]]);
    expect(() => recommenderFor("svd")).toThrow(UnknownModelKind);
    expect(() => recommenderFor("svd")).toThrow(
      /unknown model kind "svd"; known kinds: popularity, trending/,
    );
    await expect(fitModel("ials", train, { factor: 3 })).rejects.toThrow(
      /"factor" is unknown \(known: factors,/,
    );
    await expect(fitModel("ials", train, { factors: 0 })).rejects.toThrow(InvalidHyperParameter);
    await expect(fitModel("ials", train, { factors: 0 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      reason: "invalid_hyper_parameter",
    });
    expect(() => recommenderFor("svd")).toThrow(
      expect.objectContaining({ reason: "unknown_model_kind" }),
    );
    await expect(fitModel("item-knn", train, { neighbours: "many" })).rejects.toThrow(
      /must be a number, got "many"/,
    );
    await expect(fitModel("item-knn", train, { neighbours: 2.5 })).rejects.toBeInstanceOf(BadInput);
  });
});

describe("popularity", () => {
  it("keeps per-context tables that fall back to the global order", async () => {
    const train = interactions([
      ["u1", "a", 5, 0, { device: "tv" }],
      ["u2", "a", 5, 0, { device: "tv" }],
      ["u3", "b", 5, 0, { device: "mobile" }],
      ["u1", "c", 5, 0, { device: "mobile" }],
      ["u2", "c", 5, 0, {}],
    ]);
    const { model } = await fitModel("popularity", train);
    const params = model as PopularityParams;
    // a and c tie at 2 users: a (lower id) is lifted by half the gap to the top's 2 + 1, times 1/2
    expect(Array.from(params.scores[""]!)).toEqual([2.25, 1, 2]);
    expect(Array.from(recommend(model, { context: { device: "mobile" } }, 3).items)).toEqual([
      2, 1, 0,
    ]);
    expect(Array.from(recommend(model, { context: { device: "tv" } }, 3).items)).toEqual([0, 2, 1]);
    expect(Array.from(recommend(model, { context: { device: "watch" } }, 3).items)).toEqual([
      0, 2, 1,
    ]);
  });

  it("breaks ties by ascending item id (numeric ids in numeric order), whatever the row order", async () => {
    const rows: [string, string][] = [
      ["u1", "10"],
      ["u2", "10"],
      ["u1", "9"],
      ["u3", "9"],
      ["u1", "x"],
      ["u2", "b"],
      ["u3", "a"],
    ];
    for (const order of [rows, [...rows].reverse()]) {
      const train = interactions(order);
      const { model } = await fitModel("popularity", train);
      const ranked = Array.from(recommend(model, {}, 5).items).map((i) => train.ids.items[i]);
      expect(ranked).toEqual(["9", "10", "a", "b", "x"]);
      // ⌊score⌋ is still the number of distinct users
      const global = (model as PopularityParams).scores[""]!;
      expect(Array.from(global, Math.floor)).toEqual(
        train.ids.items.map((id) => (id === "9" || id === "10" ? 2 : 1)),
      );
    }
  });

  it("trending halves an event's weight every half-life", async () => {
    const day = 86400;
    const train = interactions([
      ["u1", "old", 5, 0],
      ["u2", "old", 5, 0],
      ["u3", "old", 5, 0],
      ["u1", "new", 5, 20 * day],
    ]);
    const { model } = await fitModel("trending", train, { halfLifeDays: 10 });
    const global = (model as PopularityParams).scores[""]!;
    expect(global[0]).toBeCloseTo(3 * 0.25, 6);
    expect(global[1]).toBeCloseTo(1, 6);
  });
});

describe("item-item models", () => {
  // u1: a b, u2: a b c, u3: c d
  const train = interactions([
    ["u1", "a"],
    ["u1", "b"],
    ["u2", "a"],
    ["u2", "b"],
    ["u2", "c"],
    ["u3", "c"],
    ["u3", "d"],
  ]);

  it("item-kNN is cosine with shrinkage, top-k neighbours per target", async () => {
    const { model } = await fitModel("item-knn", train, {
      shrink: 1,
      neighbours: 1,
      alpha: 0.5,
    });
    const params = model as ItemItemParams;
    // a·b = 2, |a| = |b| = √2 → 2 / (2 + 1); a·c = 1 → 1 / (√2·√2 + 1)
    expect(weight(params, 1, 0)).toBeCloseTo(2 / 3, 6);
    expect(weight(params, 0, 1)).toBeCloseTo(2 / 3, 6);
    // one neighbour per target: c keeps d (1/(√2·1+1)) over a and b (1/3)
    expect(weight(params, 3, 2)).toBeCloseTo(1 / (Math.SQRT2 + 1), 6);
    expect(weight(params, 0, 2)).toBe(0);
    expect(params.indptr[params.nItems]).toBe(4);
    const scores = scoreUser(model, { history: { items: Int32Array.from([0]) } });
    expect(scores[1]).toBeCloseTo(2 / 3, 6);
  });

  it("RP3beta is the item → user → item walk divided by popularity^beta", async () => {
    const { model } = await fitModel("rp3beta", train, { alpha: 1, beta: 0.5, neighbours: 10 });
    const params = model as ItemItemParams;
    // a → users {u1, u2} (1/2 each) → b: u1 1/2, u2 1/3 ; popularity(b) = 2
    expect(weight(params, 0, 1)).toBeCloseTo((0.5 * 0.5 + 0.5 * (1 / 3)) / Math.SQRT2, 6);
    // d → u3 (1) → c (1/2); popularity(c) = 2
    expect(weight(params, 3, 2)).toBeCloseTo(0.5 / Math.SQRT2, 6);
    expect(weight(params, 0, 0)).toBe(0);
  });
});
