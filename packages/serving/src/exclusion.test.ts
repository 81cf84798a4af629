import { afterEach, describe, expect, it } from "vitest";
import { picked, recommenderHarness, type RecommenderHarness } from "./recommender.fixture.ts";

/**
 * `/recommend?exclude=` on every path an answer can take (warm model, fold-in, cold popularity,
 * top-up, fallbacks), on a miss and on a cache hit, and with different context. The cache must key
 * on the excludes: an answer cached without them must never be served to a request with them.
 */
describe("RecommendationService: the request's exclude on every path", () => {
  let harness: RecommenderHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof recommenderHarness>[0] = {}) =>
    (harness = await recommenderHarness(options));
  const ids = (answer: { items: { itemId: string }[] }) => answer.items.map((item) => item.itemId);

  // What each user gets without excludes (see recommender.fixture.ts): the first item is excluded below.
  const users = [
    { user: "u0", path: "warm", first: ["i0", "i7", "i8"], reason: "personalized" },
    { user: "u1", path: "fold-in (known)", first: ["i1", "i3", "i4"], reason: "similar_to_recent" },
    {
      user: "f1",
      path: "fold-in (unknown)",
      first: ["i0", "i1", "i2"],
      reason: "similar_to_recent",
    },
    { user: "nobody", path: "cold", first: ["i19", "i18", "i17"], reason: "popular" },
  ];

  it.each(users)(
    "$path user $user: an answer cached without exclude is not served to a request with it",
    async ({ user, first, reason }) => {
      const h = await start();
      const plain = await h.recommend(user, 3);
      expect(plain.cached).toBe(false);
      expect(picked(plain)).toEqual(first.map((id) => `${id}:${reason}`));
      expect((await h.recommend(user, 3)).cached).toBe(true);

      // Same user, k and context, one more exclude: a different answer, computed, not the cached one.
      const excluded = await h.recommend(user, 3, { exclude: [first[0]!] });
      expect(excluded.cached).toBe(false);
      expect(ids(excluded)).not.toContain(first[0]);
      expect(ids(excluded)).toEqual([...first.slice(1), expect.any(String)]);
      expect(excluded.items.every((item) => item.reason === reason)).toBe(true);

      // The excluded answer is itself cached under its own key, and never leaks the excluded item.
      const again = await h.recommend(user, 3, { exclude: [first[0]!] });
      expect(again.cached).toBe(true);
      expect(again.items).toEqual(excluded.items);
      // And the plain answer is still the plain one.
      const plainAgain = await h.recommend(user, 3);
      expect(plainAgain.cached).toBe(true);
      expect(ids(plainAgain)).toEqual(first);
    },
  );

  it.each(users)(
    "$path user $user: an answer cached with exclude is not served to a request without it",
    async ({ user, first }) => {
      const h = await start();
      const excluded = await h.recommend(user, 3, { exclude: [first[0]!, first[1]!] });
      expect(ids(excluded)).not.toContain(first[0]);
      expect(ids(excluded)).not.toContain(first[1]);
      expect(ids(excluded)[0]).toBe(first[2]);
      const plain = await h.recommend(user, 3);
      expect(plain.cached).toBe(false);
      expect(ids(plain)).toEqual(first);
    },
  );

  it("the order of the excludes does not change the cache key; a different exclude does", async () => {
    const h = await start();
    const a = await h.recommend("nobody", 2, { exclude: ["i19", "i18"] });
    expect(picked(a)).toEqual(["i17:popular", "i16:popular"]);
    const b = await h.recommend("nobody", 2, { exclude: ["i18", "i19"] });
    expect(b.cached).toBe(true);
    expect(b.items).toEqual(a.items);
    const c = await h.recommend("nobody", 2, { exclude: ["i19", "i17"] });
    expect(c.cached).toBe(false);
    expect(picked(c)).toEqual(["i18:popular", "i16:popular"]);
  });

  it("cold users in a context: the contextual list honours the exclude, and contexts are cached apart", async () => {
    const h = await start();
    const tv = await h.recommend("nobody", 3, { context: { device: "tv" }, exclude: ["i5"] });
    expect(picked(tv)).toEqual(["i6:popular", "i19:popular", "i18:popular"]);
    const tvPlain = await h.recommend("nobody", 3, { context: { device: "tv" } });
    expect(tvPlain.cached).toBe(false);
    expect(picked(tvPlain)).toEqual(["i5:popular", "i6:popular", "i19:popular"]);
    // Same exclude, another context: its own answer, not the tv one.
    const web = await h.recommend("nobody", 3, { context: { device: "web" }, exclude: ["i5"] });
    expect(web.cached).toBe(false);
    expect(picked(web)).toEqual(["i19:popular", "i18:popular", "i17:popular"]);
    const country = await h.recommend("nobody", 3, {
      context: { device: "tv", country: "FR" },
      exclude: ["i5"],
    });
    expect(country.cached).toBe(false);
    // and the tv answer with the exclude is a hit that still leaves i5 out
    const tvAgain = await h.recommend("nobody", 3, { context: { device: "tv" }, exclude: ["i5"] });
    expect(tvAgain.cached).toBe(true);
    expect(ids(tvAgain)).not.toContain("i5");
  });

  it("a short model answer topped up from popularity leaves the excluded popular items out", async () => {
    const h = await start({ model: { limit: 2 } });
    const answer = await h.recommend("u0", 4, { exclude: ["i19", "i0"] });
    expect(picked(answer)).toEqual([
      "i7:personalized",
      "i8:personalized",
      "i18:popular",
      "i17:popular",
    ]);
  });

  it("fallbacks (no model, model failing, resolver failing) honour the exclude too", async () => {
    let h = await start({ resolution: { ref: null } });
    expect(picked(await h.recommend("u0", 2, { exclude: ["i19"] }))).toEqual([
      "i18:popular",
      "i17:popular",
    ]);
    await h.close();
    h = await start({ model: { failWith: new Error("session crashed") } });
    for (const user of ["u0", "u1", "nobody"]) {
      const answer = await h.recommend(user, 2, { exclude: ["i18", "i19"] });
      expect(ids(answer)).toEqual(["i17", "i16"]);
    }
    await h.close();
    h = await start({ resolution: { ref: null, experimentKey: "e", variant: "pop" } });
    const byDesign = await h.recommend("nobody", 2, { exclude: ["i19"] });
    expect(byDesign).toMatchObject({ fallback: false, variant: "pop" });
    expect(ids(byDesign)).toEqual(["i18", "i17"]);
    const byDesignPlain = await h.recommend("nobody", 2);
    expect(byDesignPlain.cached).toBe(false);
    expect(ids(byDesignPlain)).toEqual(["i19", "i18"]);
  });

  it("an excluded item the model does not know, or that is already in the history, changes nothing else", async () => {
    const h = await start();
    expect(picked(await h.recommend("u0", 2, { exclude: ["x1", "i1", "zzz"] }))).toEqual([
      "i0:personalized",
      "i7:personalized",
    ]);
    // the model is told only the indices it knows: the history's and i0's
    await h.recommend("u0", 2, { exclude: ["i0", "zzz"] });
    expect(h.model.requests.at(-1)!.exclude).toEqual(Int32Array.of(0, 1, 2, 3, 4, 5, 6));
  });
});
