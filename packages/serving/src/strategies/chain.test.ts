import { afterEach, describe, expect, it } from "vitest";
import { picked, recommenderHarness, type RecommenderHarness } from "../recommender.fixture.ts";
import {
  defaultStrategies,
  Exclusion,
  foldInStrategy,
  popularityStrategy,
  StrategyError,
  warmModelStrategy,
  type RecommendStrategy,
} from "./index.ts";

describe("Exclusion", () => {
  const make = () =>
    new Exclusion(new Set(["seen"]), ["asked-out"], (itemId) => !itemId.startsWith("unavailable"));

  it("excludes the history, the request's excludes and what admit refuses; a second check agrees", () => {
    const exclude = make();
    for (let round = 0; round < 2; round += 1) {
      expect(exclude.has("seen")).toBe(true);
      expect(exclude.has("asked-out")).toBe(true);
      expect(exclude.has("unavailable-1")).toBe(true);
      expect(exclude.has("fine")).toBe(false);
    }
  });

  it("an item passed once is excluded after add (the answer holds it now)", () => {
    const exclude = make();
    expect(exclude.has("fine")).toBe(false);
    exclude.add("fine");
    expect(exclude.has("fine")).toBe(true);
    expect(exclude.hasScored("fine")).toBe(true);
    expect(make().has("fine")).toBe(false); // each request its own
  });

  it("hasScored leaves the history to the model's exclusion but checks the rest", () => {
    const exclude = make();
    expect(exclude.hasScored("seen")).toBe(false);
    expect(exclude.hasScored("asked-out")).toBe(true);
    expect(exclude.hasScored("unavailable-2")).toBe(true);
    expect(exclude.hasScored("other")).toBe(false);
    exclude.add("other");
    expect(exclude.has("other")).toBe(true);
  });
});

describe("strategy chain", () => {
  let harness: RecommenderHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (
    strategies: readonly RecommendStrategy[],
    options: Parameters<typeof recommenderHarness>[0] = {},
  ) => (harness = await recommenderHarness({ ...options, deps: { strategies } }));

  it("the default chain is warm model, fold-in, popularity", () => {
    expect(defaultStrategies.map((s) => s.name)).toEqual(["model", "foldin", "popularity"]);
  });

  it("an editor's-picks strategy placed before popularity fills cold users' answers first", async () => {
    const editorsPicks: RecommendStrategy = {
      name: "editors_picks",
      applies: (ctx) => ctx.seen.length === 0,
      fill: (_ctx, want) =>
        ["i3", "i7", "i11"].slice(0, want).map((itemId) => ({ itemId, score: 1, reason: "pick" })),
    };
    const h = await start([warmModelStrategy, foldInStrategy, editorsPicks, popularityStrategy]);

    // i7 is excluded by the request: dropped, and popularity fills the rest up to k.
    const cold = await h.recommend("nobody", 5, { exclude: ["i7"] });
    expect(cold).toMatchObject({ modelVersion: "m@v1", fallback: false, cached: false });
    expect(picked(cold)).toEqual([
      "i3:pick",
      "i11:pick",
      "i19:popular",
      "i18:popular",
      "i17:popular",
    ]);
    expect((await h.recommend("nobody", 5, { exclude: ["i7"] })).cached).toBe(true);
    // Warm users are not cold: the model fills their answer, the picks do not apply.
    expect(picked(await h.recommend("u0", 2))).toEqual(["i0:personalized", "i7:personalized"]);
    const m = h.metrics;
    expect(await m.value(m.recommendations, { source: "editors_picks" })).toBe(1);
    expect(await m.value(m.recommendations, { source: "model" })).toBe(1);
    expect(await m.value(m.fallbacks)).toBe(0);
  });

  it("a strategy filling from a list after the model tops up a short answer before popularity", async () => {
    const fromList: RecommendStrategy = {
      name: "list",
      // The model's items are already excluded: i0 is dropped, i12 and i13 follow.
      fill: (_ctx, want) =>
        ["i0", "i12", "i13"]
          .slice(0, want + 1)
          .map((itemId) => ({ itemId, score: 0, reason: "list" })),
    };
    const h = await start([warmModelStrategy, fromList, popularityStrategy], {
      model: { limit: 2 },
    });
    const answer = await h.recommend("u0", 5);
    expect(picked(answer)).toEqual([
      "i0:personalized",
      "i7:personalized",
      "i12:list",
      "i13:list",
      "i19:popular",
    ]);
    expect(answer.fallback).toBe(false);
  });

  it("a strategy that throws makes the answer a fallback with its reason, and the next one fills k", async () => {
    const feedDown: RecommendStrategy = {
      name: "feed",
      fill: () => {
        throw new StrategyError("feed_down", "editorial feed unreachable");
      },
    };
    const crashes: RecommendStrategy = {
      name: "crashes",
      fill: async () => {
        throw new Error("bug");
      },
    };
    const h = await start([feedDown, crashes, ...defaultStrategies]);
    for (const user of ["nobody", "u0"]) {
      const answer = await h.recommend(user, 4);
      // The first failure names the reason; the model and popularity still fill the answer.
      expect(answer).toMatchObject({ fallback: true, fallbackReason: "feed_down", cached: false });
      expect(answer.modelVersion).toBe("m@v1");
      expect(answer.items).toHaveLength(4);
    }
    expect(picked(await h.recommend("nobody", 2))).toEqual(["i19:popular", "i18:popular"]);
    expect(picked(await h.recommend("u0", 2))).toEqual(["i0:personalized", "i7:personalized"]);
    const m = h.metrics;
    expect(await m.value(m.fallbacks, { reason: "feed_down" })).toBe(4);
    expect(await m.value(m.fallbacks, { reason: "inference_error" })).toBe(0);
    expect((await h.recommend("nobody", 2)).cached).toBe(false); // fallbacks are not cached

    // Alone, an error that names no reason is an inference_error.
    await h.close();
    const only = await start([crashes, popularityStrategy]);
    const answer = await only.recommend("nobody", 3);
    expect(answer).toMatchObject({ fallback: true, fallbackReason: "inference_error" });
    expect(picked(answer)).toEqual(["i19:popular", "i18:popular", "i17:popular"]);
    expect(await only.metrics.value(only.metrics.fallbacks, { reason: "inference_error" })).toBe(1);
    expect(await only.metrics.value(only.metrics.recommendations, { source: "popularity" })).toBe(
      1,
    );
  });
});
