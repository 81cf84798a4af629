import { describe, expect, it } from "vitest";
import { clickProbability, decideClick, type ClickModel } from "./click-model.ts";
import { seededRandom, type Random } from "./random.ts";

/** A Random that returns the given draws in turn (and fails when asked for more). */
function draws(nexts: number[], ints: number[] = []): Random {
  return {
    next: () => {
      const value = nexts.shift();
      if (value === undefined) throw new Error("unexpected draw");
      return value;
    },
    int: () => {
      const value = ints.shift();
      if (value === undefined) throw new Error("unexpected int draw");
      return value;
    },
  };
}

describe("clickProbability", () => {
  it("is the base rate without hits and 1 − (1 − base)(1 − hit)^hits with them (defaults 0.02, 0.35)", () => {
    expect(clickProbability(0)).toBeCloseTo(0.02, 12);
    expect(clickProbability(1)).toBeCloseTo(1 - 0.98 * 0.65, 12); // 0.363
    expect(clickProbability(2)).toBeCloseTo(0.58595, 12); // 1 − 0.98 · 0.4225
    expect(clickProbability(10)).toBeCloseTo(1 - 0.98 * 0.013462743344628911, 12);
  });

  it("follows the model's parameters", () => {
    const model: ClickModel = { baseProbability: 0.1, hitProbability: 0.5, watchProbability: 1 };
    expect(clickProbability(0, model)).toBeCloseTo(0.1, 12);
    expect(clickProbability(3, model)).toBeCloseTo(0.8875, 12); // 1 − 0.9 · 0.125
  });

  it("refuses a negative or fractional number of hits", () => {
    expect(() => clickProbability(-1)).toThrow(/hits/);
    expect(() => clickProbability(1.5)).toThrow(/hits/);
  });
});

describe("decideClick", () => {
  const future = new Set(["f1", "f2"]);

  it("clicks the highest-ranked hit when the draw is below P(click)", () => {
    // hits: f2 (rank 2) and f1 (rank 4) → P = 0.58595; a draw of 0.58 clicks
    const decision = decideClick(["a", "f2", "b", "f1"], future, draws([0.58]));
    expect(decision).toEqual({ itemId: "f2", hit: true, hits: 2 });
  });

  it("does not click when the draw is at or above P(click)", () => {
    expect(decideClick(["a", "f1"], future, draws([0.363]))).toEqual({ hit: false, hits: 1 });
    expect(decideClick(["a", "b"], future, draws([0.5]))).toEqual({ hit: false, hits: 0 });
  });

  it("without hits, a click (draw below the base rate) lands on a served item at random", () => {
    expect(decideClick(["a", "b", "c"], future, draws([0.019], [2]))).toEqual({
      itemId: "c",
      hit: false,
      hits: 0,
    });
  });

  it("an empty list is never clicked and draws nothing", () => {
    expect(decideClick([], future, draws([]))).toEqual({ hit: false, hits: 0 });
  });

  it("over many seeded lists, the click frequency matches P(click) for 0, 1 and 3 hits", () => {
    const random = seededRandom(42);
    const n = 20_000;
    for (const [served, expected] of [
      [["a", "b", "c"], 0.02],
      [["a", "f1", "c"], 0.363],
      [["f1", "f2", "f3"], 1 - 0.98 * 0.65 ** 3],
    ] as const) {
      const futureItems = new Set(["f1", "f2", "f3"]);
      let clicks = 0;
      for (let i = 0; i < n; i += 1)
        if (decideClick(served, futureItems, random).itemId !== undefined) clicks += 1;
      // 4 standard errors of a proportion at n = 20 000
      const tolerance = 4 * Math.sqrt((expected * (1 - expected)) / n);
      expect(Math.abs(clicks / n - expected)).toBeLessThan(tolerance);
    }
  });
});
