import { CacheUnavailable, MemoryCache } from "@reco/cache";
import { DEFAULT_FEATURE_KEY_PREFIX, recentItemsKey } from "@reco/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { Catalog } from "./catalog.ts";
import {
  ITEM_IDS,
  picked,
  recommenderHarness,
  REF,
  type RecommenderHarness,
} from "./recommender.fixture.ts";
import type { ModelResolution } from "./resolver.ts";
import {
  defaultStrategies,
  popularityStrategy,
  StrategyError,
  type RecommendStrategy,
} from "./strategies/index.ts";

/**
 * The serving paths the routing tests leave out: /similar, a cache that is down, per-user
 * invalidation, every part of the cache key, the service's tuning options, what other instances'
 * interactions add, and the strategy chain's limits.
 */
describe("RecommendationService: similar items, the cache and the chain's edges", () => {
  let harness: RecommenderHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof recommenderHarness>[0] = {}) =>
    (harness = await recommenderHarness(options));
  const ids = (answer: { items: { itemId: string }[] }) => answer.items.map((item) => item.itemId);

  describe("similar(itemId)", () => {
    it("asks the model with that one item as the history, and never returns it", async () => {
      const h = await start();
      const answer = await h.service.similar("i3", 3);
      expect(answer).toMatchObject({ itemId: "i3", modelVersion: "m@v1", fallback: false });
      expect(answer.items.map((item) => `${item.itemId}:${item.reason}`)).toEqual([
        "i0:similar",
        "i1:similar",
        "i2:similar",
      ]);
      expect(h.model.requests.at(-1)).toMatchObject({
        historyIndices: [3],
        exclude: Int32Array.of(3),
      });
      expect(answer.items[0]).toEqual({
        itemId: "i0",
        score: 20,
        title: "T i0",
        reason: "similar",
      });
    });

    it("refuses an item the catalog does not have", async () => {
      const h = await start();
      await expect(h.service.similar("nope", 3)).rejects.toMatchObject({ name: "NotFound" });
    });

    it("falls back to popularity without the item: unknown to the model, no model, failing model or resolver", async () => {
      const popular = async (h: RecommenderHarness, item: string) => {
        const answer = await h.service.similar(item, 2);
        expect(answer).toMatchObject({ itemId: item, modelVersion: "popularity", fallback: true });
        return answer.items.map((i) => `${i.itemId}:${i.reason}`);
      };
      let h = await start();
      expect(await popular(h, "x1")).toEqual(["i19:popular", "i18:popular"]);
      await h.close();
      h = await start({ resolution: { ref: null } });
      expect(await popular(h, "i19")).toEqual(["i18:popular", "i17:popular"]);
      await h.close();
      h = await start({ model: { failWith: new Error("session crashed") } });
      expect(await popular(h, "i3")).toEqual(["i19:popular", "i18:popular"]);
      expect(await h.metrics.value(h.metrics.fallbacks, { reason: "inference_error" })).toBe(1);
      await h.close();
      h = await start({ model: { limit: 0 } });
      expect(await popular(h, "i3")).toEqual(["i19:popular", "i18:popular"]);
      await h.close();
      h = await start({
        resolver: {
          resolve: async () => {
            throw new Error("database down");
          },
        },
      });
      expect(await popular(h, "i3")).toEqual(["i19:popular", "i18:popular"]);
    });
  });

  describe("the cache", () => {
    /** A MemoryCache whose operations fail with `error` while `down` is set. */
    function flakyCache(error: () => Error) {
      const cache = new MemoryCache();
      const state = { down: false };
      for (const method of ["getText", "setText", "getList", "deleteTag"] as const) {
        const original = cache[method].bind(cache) as (...args: unknown[]) => Promise<unknown>;
        (cache as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
          state.down ? Promise.reject(error()) : original(...args);
      }
      return { cache, state };
    }

    it("a cache that is down is a miss: answers go on, counted as cache errors", async () => {
      const { cache, state } = flakyCache(() => new CacheUnavailable("redis down"));
      const h = await start({ cache });
      state.down = true;
      const answer = await h.recommend("u0", 2);
      expect(picked(answer)).toEqual(["i0:personalized", "i7:personalized"]);
      expect(answer.cached).toBe(false);
      expect((await h.recommend("u0", 2)).cached).toBe(false);
      await h.service.invalidateUser("u0");
      expect(await h.metrics.value(h.metrics.cacheRequests, { result: "error" })).toBe(3);
      state.down = false;
      await h.recommend("u0", 2);
      expect((await h.recommend("u0", 2)).cached).toBe(true);
    });

    it("any other cache failure is a bug and surfaces", async () => {
      const { cache, state } = flakyCache(() => new TypeError("bug"));
      const h = await start({ cache });
      state.down = true;
      await expect(h.recommend("u0", 2)).rejects.toThrow("bug");
      await expect(h.service.invalidateUser("u0")).rejects.toThrow("bug");
    });

    it("invalidateUser drops that user's answers only", async () => {
      const h = await start();
      await h.recommend("u0", 2);
      await h.recommend("u1", 2);
      await h.service.invalidateUser("u0");
      expect((await h.recommend("u0", 2)).cached).toBe(false);
      expect((await h.recommend("u1", 2)).cached).toBe(true);
    });

    it("answers live for cacheTtlMs", async () => {
      const h = await start({ deps: { cacheTtlMs: 100 } });
      await h.recommend("u0", 2);
      expect((await h.recommend("u0", 2)).cached).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await h.recommend("u0", 2)).cached).toBe(false);
    });

    it("keys on the version, the experiment and its arm, k, device and country, kept apart", async () => {
      let resolution: ModelResolution = { ref: REF };
      const h = await start({ resolver: { resolve: async () => resolution } });
      const again = async (extra: Parameters<RecommenderHarness["recommend"]>[2] = {}, k = 2) =>
        (await h.recommend("u0", k, extra)).cached;
      expect(await again()).toBe(false);
      expect(await again()).toBe(true);
      resolution = { ref: { ...REF, version: "v2" } };
      expect(await again()).toBe(false);
      expect((await h.recommend("u0", 2)).modelVersion).toBe("m@v2");
      resolution = { ref: { ...REF, name: "n" } };
      expect(await again()).toBe(false);
      resolution = { ref: REF, experimentKey: "e1", variant: "a" };
      expect(await again()).toBe(false);
      resolution = { ref: REF, experimentKey: "e2", variant: "a" };
      expect(await again()).toBe(false);
      resolution = { ref: REF, experimentKey: "e2", variant: "b" };
      expect(await again()).toBe(false);
      expect(await again()).toBe(true);
      resolution = { ref: REF };
      expect(await again({ context: { country: "FR" } })).toBe(false);
      expect(await again({ context: { country: "DE" } })).toBe(false);
      expect(await again({ context: { country: "DE" } })).toBe(true);
      // parts must not run into each other: k 1 on device "0tv" is not k 10 on device "tv"
      expect(await again({ context: { device: "0tv" } }, 1)).toBe(false);
      const ten = await h.recommend("u0", 10, { context: { device: "tv" } });
      expect(ten.cached).toBe(false);
      expect(ten.items).toHaveLength(10);
      // nor may two excludes read as one
      expect(await again({ exclude: ["i1", "i2"] })).toBe(false);
      expect(await again({ exclude: ["i1i2"] })).toBe(false);
    });

    it("the resolver is asked about this user in this context", async () => {
      const asked: unknown[] = [];
      const h = await start({
        resolver: {
          resolve: async (request) => {
            asked.push(request);
            return { ref: REF };
          },
        },
      });
      await h.recommend("u1", 2, { context: { device: "tv" } });
      expect(asked).toEqual([{ userId: "u1", context: { device: "tv" } }]);
    });
  });

  describe("history: this instance's, other instances', and its indices", () => {
    const pushRecent = (h: RecommenderHarness, user: string, values: unknown[]) =>
      h.cache.pushLists([{ key: recentItemsKey(DEFAULT_FEATURE_KEY_PREFIX, user), values }], {
        maxLength: 10,
      });

    it("fold-in reads only the most recent foldInHistory items", async () => {
      const h = await start({ deps: { foldInHistory: 1 } });
      await h.recommend("u1", 2);
      expect(h.model.requests.at(-1)).toMatchObject({
        historyIndices: [2],
        exclude: Int32Array.of(0, 2),
      });
    });

    it("a user's history indices follow new events, and are never another user's", async () => {
      const h = await start();
      await h.recommend("u1", 2);
      expect(h.model.requests.at(-1)!.historyIndices).toEqual([0, 2]);
      h.history.record("u1", "i5");
      await h.recommend("u1", 3); // another k: not the cached answer
      expect(h.model.requests.at(-1)!.historyIndices).toEqual([0, 2, 5]);
      // f2 has as many events as u1 had: the same history version, other items
      h.history.record("f2", "i8");
      h.history.record("f2", "i9");
      await h.recommend("f2", 2);
      expect(h.model.requests.at(-1)!.historyIndices).toEqual([8, 9]);
    });

    it("other instances' items count once each, only when new here, and junk entries are skipped", async () => {
      // u1 has i0 and i2 here: seen elsewhere too, they add nothing; warm from 3 events would show
      const h = await start({
        deps: { routing: { warmMinInteractions: 3, foldInMinInteractions: 2 } },
      });
      await pushRecent(h, "u1", [
        { itemId: "i0", type: "click", at: "2026-01-01T00:00:00Z" },
        { itemId: "i2", type: "click", at: "2026-01-01T00:00:00Z" },
      ]);
      expect(picked(await h.recommend("u1", 1))[0]).toMatch(/:similar_to_recent$/);
      // nobody: the same item twice elsewhere, and entries without a string itemId, are one event
      await pushRecent(h, "nobody", [
        null,
        { itemId: 5 },
        { itemId: "i9", type: "click", at: "2026-01-01T00:00:00Z" },
        { itemId: "i9", type: "click", at: "2026-01-01T00:00:01Z" },
      ]);
      expect(picked(await h.recommend("nobody", 1))).toEqual(["i19:popular"]);
      // x has x1 here and elsewhere: still one event, below foldInMinInteractions 2 → cold, not a fallback
      await pushRecent(h, "x", [{ itemId: "x1", type: "click", at: "2026-01-01T00:00:00Z" }]);
      expect(await h.recommend("x", 1)).toMatchObject({
        fallback: false,
        items: [{ itemId: "i19" }],
      });
    });
  });

  describe("the strategy chain", () => {
    const fixed = (name: string, items: string[], log?: number[]): RecommendStrategy => ({
      name,
      fill: (_ctx, want) => {
        log?.push(want);
        return items.map((itemId) => ({ itemId, score: 1, reason: name }));
      },
    });

    it("asks each strategy only for what is still missing, and keeps k items at most", async () => {
      const wants: number[] = [];
      const h = await start({
        deps: {
          strategies: [
            fixed("a", ["i1", "i2"], wants),
            fixed("b", ["i3", "i4", "i5", "i6"], wants),
          ],
        },
      });
      expect(ids(await h.recommend("nobody", 3))).toEqual(["i1", "i2", "i3"]);
      expect(wants).toEqual([3, 1]);
    });

    it("stops once the answer is full: a later strategy that would fail is not run", async () => {
      const fails: RecommendStrategy = {
        name: "fails",
        fill: () => {
          throw new StrategyError("late", "should not run");
        },
      };
      const h = await start({ deps: { strategies: [fixed("a", ["i1", "i2"]), fails] } });
      expect(await h.recommend("nobody", 2)).toMatchObject({ fallback: false, cached: false });
    });

    it("an asynchronous applies() that answers no skips the strategy; with none run the source is none", async () => {
      const no: RecommendStrategy = { ...fixed("no", ["i1"]), applies: async () => false };
      const h = await start({ deps: { strategies: [no] } });
      const answer = await h.recommend("nobody", 2);
      expect(answer.items).toEqual([]);
      expect(await h.metrics.value(h.metrics.recommendations, { source: "none" })).toBe(1);
    });

    it("a strategy may read the history and ask for the model; with none to serve that is no_model", async () => {
      const asksModel: RecommendStrategy = {
        name: "asks",
        fill: async (ctx) => {
          expect(ctx.history.count(ctx.input.userId)).toBe(6);
          await ctx.model();
          return [];
        },
      };
      const h = await start({
        resolution: { ref: null, experimentKey: "e", variant: "pop" },
        deps: { strategies: [asksModel, popularityStrategy] },
      });
      expect(await h.recommend("u0", 1)).toMatchObject({
        fallback: true,
        fallbackReason: "no_model",
      });
    });

    it("items the catalog does not know come without a title", async () => {
      const h = await start({
        deps: {
          strategies: defaultStrategies,
          catalog: () =>
            Catalog.fromItems(
              ITEM_IDS.filter((id) => id !== "i0" && id !== "i19").map((itemId) => ({
                itemId,
                title: `T ${itemId}`,
                genres: [],
                year: null,
              })),
            ),
        },
      });
      expect((await h.recommend("u0", 1)).items).toEqual([
        { itemId: "i0", score: 20, reason: "personalized" },
      ]);
      expect((await h.recommend("nobody", 1)).items).toEqual([
        { itemId: "i19", score: 100, reason: "popular" },
      ]);
    });
  });
});
