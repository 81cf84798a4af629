import { DEFAULT_FEATURE_KEY_PREFIX, recentItemsKey } from "@reco/contracts";
import { ArtifactCorrupt, ModelVersionMissing } from "@reco/ml";
import { afterEach, describe, expect, it } from "vitest";
import { picked, recommenderHarness, type RecommenderHarness } from "./recommender.fixture.ts";

/** The routing and fallbacks of the default strategies, answer by answer. */
describe("RecommendationService: default routing and fallbacks", () => {
  let harness: RecommenderHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof recommenderHarness>[0] = {}) =>
    (harness = await recommenderHarness(options));

  it("warm → the model's row, a few events → fold-in, cold → popularity; cached when not a fallback", async () => {
    const h = await start();
    const warm = await h.recommend("u0", 3);
    expect(warm).toMatchObject({ userId: "u0", modelVersion: "m@v1", fallback: false });
    expect(warm).not.toHaveProperty("fallbackReason");
    expect(picked(warm)).toEqual(["i0:personalized", "i7:personalized", "i8:personalized"]);
    expect(warm.items[0]).toEqual({
      itemId: "i0",
      score: 20,
      title: "T i0",
      reason: "personalized",
    });
    expect(h.model.requests.at(-1)).toMatchObject({
      userIndex: 0,
      exclude: Int32Array.of(1, 2, 3, 4, 5, 6),
    });

    const known = await h.recommend("u1", 3);
    expect(picked(known)).toEqual([
      "i1:similar_to_recent",
      "i3:similar_to_recent",
      "i4:similar_to_recent",
    ]);
    expect(h.model.requests.at(-1)).toMatchObject({
      historyIndices: [0, 2],
      exclude: Int32Array.of(0, 2),
    });
    const unknown = await h.recommend("f1", 2);
    expect(picked(unknown)).toEqual(["i0:similar_to_recent", "i1:similar_to_recent"]);

    const cold = await h.recommend("nobody", 3);
    expect(cold).toMatchObject({ modelVersion: "m@v1", fallback: false });
    expect(picked(cold)).toEqual(["i19:popular", "i18:popular", "i17:popular"]);
    expect(cold.items[0]).toEqual({ itemId: "i19", score: 100, title: "T i19", reason: "popular" });
    const tv = await h.recommend("nobody", 3, { context: { device: "tv" } });
    expect(picked(tv)).toEqual(["i5:popular", "i6:popular", "i19:popular"]);

    const m = h.metrics;
    expect(await m.value(m.recommendations, { source: "model" })).toBe(1);
    expect(await m.value(m.recommendations, { source: "foldin" })).toBe(2);
    expect(await m.value(m.recommendations, { source: "popularity" })).toBe(2);
    expect(await m.value(m.fallbacks)).toBe(0);
    const again = await h.recommend("u0", 3);
    expect(again.cached).toBe(true);
    expect(again.items).toEqual(warm.items);
    expect(await m.value(m.recommendations, { source: "cache" })).toBe(1);
  });

  it("excludes the request's items and what reached other instances; those events count for routing", async () => {
    const h = await start();
    expect(picked(await h.recommend("u0", 2, { exclude: ["i0", "i8"] }))).toEqual([
      "i7:personalized",
      "i9:personalized",
    ]);
    expect(h.model.requests.at(-1)!.exclude).toEqual(Int32Array.of(0, 1, 2, 3, 4, 5, 6, 8));
    await h.cache.pushLists(
      [
        {
          key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, "nobody"),
          values: [{ itemId: "i9", type: "click", at: new Date().toISOString() }],
        },
      ],
      { maxLength: 10 },
    );
    // One event seen elsewhere: no longer cold, folded in from it, and it is not shown again.
    const answer = await h.recommend("nobody", 2);
    expect(picked(answer)).toEqual(["i0:similar_to_recent", "i1:similar_to_recent"]);
    expect(h.model.requests.at(-1)).toMatchObject({
      historyIndices: [9],
      exclude: Int32Array.of(9),
    });
  });

  it("a short model answer is topped up from popularity (not a fallback)", async () => {
    const h = await start({ model: { limit: 2 } });
    const answer = await h.recommend("u0", 5);
    expect(answer).toMatchObject({ modelVersion: "m@v1", fallback: false });
    expect(picked(answer)).toEqual([
      "i0:personalized",
      "i7:personalized",
      "i19:popular",
      "i18:popular",
      "i17:popular",
    ]);
    expect(await h.metrics.value(h.metrics.recommendations, { source: "model" })).toBe(1);
    expect(await h.metrics.value(h.metrics.recommendations, { source: "popularity" })).toBe(0);
  });

  it("no history item the model knows → popularity, fallback empty_result, not cached", async () => {
    const h = await start();
    const answer = await h.recommend("x", 3);
    expect(answer).toMatchObject({
      modelVersion: "m@v1",
      fallback: true,
      fallbackReason: "empty_result",
    });
    expect(picked(answer)).toEqual(["i19:popular", "i18:popular", "i17:popular"]);
    expect((await h.recommend("x", 3)).cached).toBe(false);
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "empty_result" })).toBe(2);
    expect(await h.metrics.value(h.metrics.recommendations, { source: "popularity" })).toBe(2);
  });

  it("inference error → popularity, fallback inference_error; a cold user is not affected", async () => {
    const h = await start({ model: { failWith: new Error("session crashed") } });
    for (const user of ["u0", "u1"]) {
      const answer = await h.recommend(user, 3);
      expect(answer).toMatchObject({
        modelVersion: "m@v1",
        fallback: true,
        fallbackReason: "inference_error",
      });
      expect(picked(answer)).toEqual(["i19:popular", "i18:popular", "i17:popular"]);
    }
    expect(await h.recommend("nobody", 1)).toMatchObject({ fallback: false });
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "inference_error" })).toBe(2);
  });

  it("a corrupt or missing artifact → popularity with model_corrupt / model_missing, counted once per answer", async () => {
    const corrupt = new ArtifactCorrupt("/registry/m/v1", "model.onnx checksum mismatch");
    let h = await start({ loadError: corrupt });
    for (const user of ["u0", "u1", "f1"]) {
      const answer = await h.recommend(user, 2);
      expect(answer).toMatchObject({ fallback: true, fallbackReason: "model_corrupt" });
      expect(answer.modelVersion).toBe("m@v1");
      expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
    }
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "model_corrupt" })).toBe(3);
    expect(await h.metrics.value(h.metrics.recommendations, { source: "popularity" })).toBe(3);
    await h.close();
    // A loader that finds no file (ENOENT, no reason of its own): the pool reports the version missing.
    const missing = Object.assign(new Error("no such file"), { code: "ENOENT" });
    h = await start({ loadError: missing });
    expect(await h.recommend("u0", 1)).toMatchObject({
      fallback: true,
      fallbackReason: "model_missing",
    });
    await h.close();
    h = await start({ loadError: new ModelVersionMissing("m", "v1") });
    expect(await h.recommend("u0", 1)).toMatchObject({
      fallback: true,
      fallbackReason: "model_missing",
    });
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "model_missing" })).toBe(1);
  });

  it("no model → popularity, fallback no_model (cold users too); a failing resolver → resolver_error", async () => {
    let h = await start({ resolution: { ref: null } });
    for (const user of ["u0", "nobody"]) {
      const answer = await h.recommend(user, 2);
      expect(answer).toMatchObject({
        modelVersion: "popularity",
        fallback: true,
        fallbackReason: "no_model",
      });
      expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
    }
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "no_model" })).toBe(2);
    await h.close();
    h = await start({
      resolver: {
        resolve: async () => {
          throw new Error("database down");
        },
      },
    });
    const answer = await h.recommend("u0", 2);
    expect(answer).toMatchObject({
      modelVersion: "popularity",
      fallback: true,
      fallbackReason: "resolver_error",
    });
    expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
    expect(await h.metrics.value(h.metrics.fallbacks, { reason: "resolver_error" })).toBe(1);
    // A resolver error that claims a reason of its own is still classified as the resolver's failure.
    await h.close();
    h = await start({
      resolver: {
        resolve: async () => {
          throw new ArtifactCorrupt("/elsewhere", "not the serving model");
        },
      },
    });
    expect(await h.recommend("u0", 2)).toMatchObject({ fallbackReason: "resolver_error" });
  });

  it("an experiment arm that serves popularity by design is not a fallback, and is cached", async () => {
    const h = await start({ resolution: { ref: null, experimentKey: "exp1", variant: "pop" } });
    const answer = await h.recommend("u0", 2);
    expect(answer).toMatchObject({
      modelVersion: "popularity",
      fallback: false,
      experimentKey: "exp1",
      variant: "pop",
    });
    expect(answer).not.toHaveProperty("fallbackReason");
    expect(picked(answer)).toEqual(["i19:popular", "i18:popular"]);
    expect(await h.metrics.value(h.metrics.fallbacks)).toBe(0);
    expect((await h.recommend("u0", 2)).cached).toBe(true);
  });

  it("answers keep their field order: recId, cached, userId, items, modelVersion, fallback, fallbackReason", async () => {
    const h = await start({ resolution: { ref: null } });
    const text = await h.service.recommendJson({ userId: "u0", k: 1, exclude: [], context: {} });
    expect(Object.keys(JSON.parse(text))).toEqual([
      "recId",
      "cached",
      "userId",
      "items",
      "modelVersion",
      "fallback",
      "fallbackReason",
    ]);
  });
});
