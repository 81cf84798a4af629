import { afterEach, describe, expect, it } from "vitest";
import { Catalog, type CatalogItem, type ItemFilter } from "./catalog.ts";
import {
  ITEM_IDS,
  picked,
  recommenderHarness,
  type RecommenderHarness,
} from "./recommender.fixture.ts";
import type { Recommendation } from "./schemas.ts";
import { recommendQuerySchema, similarQuerySchema } from "./schemas.ts";

/**
 * Category filters and item availability on every path of an answer. The fixture's model ranks
 * i0, i1, i2, … for everyone (minus excluded indices); popularity ranks i19, i18, …; u0 is warm
 * with history i1..i6. Here even items are "Comedy", odd ones "Drama", and i0, i1 also "Family".
 * Expected answers are worked out by hand from those rules.
 */
const items = (): CatalogItem[] =>
  [...ITEM_IDS, "x1"].map((itemId) => {
    const j = Number(itemId.slice(1));
    const genres = itemId === "x1" ? [] : [j % 2 === 0 ? "Comedy" : "Drama"];
    if (j === 0 || j === 1) genres.push("Family");
    return {
      itemId,
      title: `T ${itemId}`,
      genres,
      year: null,
      updatedAt: "2026-12-01T00:00:00.000Z",
    };
  });

const comedy: ItemFilter = { categories: ["comedy"], excludeCategories: [] };
const notDrama: ItemFilter = { categories: [], excludeCategories: ["drama"] };
const ids = (answer: { items: { itemId: string }[] }) => answer.items.map((item) => item.itemId);

describe("filters and availability in RecommendationService", () => {
  let harness: RecommenderHarness | undefined;
  let catalog: Catalog;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const start = async (options: Parameters<typeof recommenderHarness>[0] = {}) => {
    catalog = Catalog.fromItems(items());
    harness = await recommenderHarness({ ...options, deps: { catalog: () => catalog } });
    return harness;
  };
  const recommend = async (
    userId: string,
    k: number,
    filter?: ItemFilter,
  ): Promise<Recommendation> =>
    JSON.parse(
      await harness!.service.recommendJson({
        userId,
        k,
        exclude: [],
        context: {},
        ...(filter ? { filter } : {}),
      }),
    );
  const change = (itemId: string, fields: Partial<CatalogItem>, at: string) =>
    catalog.apply({ ...catalog.get(itemId)!, ...fields, updatedAt: at });

  it("a warm user's filtered answer keeps k items, all the model's, in its order", async () => {
    await start();
    // The model's order without u0's history (i1..i6): i0, i7, i8, i9, i10, …; comedies are even.
    const answer = await recommend("u0", 5, comedy);
    expect(picked(answer)).toEqual(
      ["i0", "i8", "i10", "i12", "i14"].map((id) => `${id}:personalized`),
    );
    expect(answer.fallback).toBe(false);
    // excludeCategory: the same items here (every item is a comedy or a drama).
    expect(ids(await recommend("u0", 5, notDrama))).toEqual(["i0", "i8", "i10", "i12", "i14"]);
    // Several categories are any-of: Family adds i1, but it is in u0's history.
    expect(
      ids(await recommend("u0", 3, { categories: ["family", "drama"], excludeCategories: [] })),
    ).toEqual(["i0", "i7", "i9"]);
  });

  it("a short model answer is topped up from popularity within the filter", async () => {
    // The model returns at most 3 items: i0, i7, i8 for u0, of which comedies are i0 and i8.
    await start({ model: { limit: 3 } });
    const answer = await recommend("u0", 5, comedy);
    expect(picked(answer)).toEqual([
      "i0:personalized",
      "i8:personalized",
      "i18:popular",
      "i16:popular",
      "i14:popular",
    ]);
  });

  it("no model candidate passing the filter is no fallback: popularity within it, cached", async () => {
    // The model returns only i0 (a comedy) for u0: nothing of it is a drama.
    await start({ model: { limit: 1 } });
    const drama = { categories: ["drama"], excludeCategories: [] };
    const answer = await recommend("u0", 2, drama);
    expect(picked(answer)).toEqual(["i19:popular", "i17:popular"]);
    expect(answer.fallback).toBe(false);
    expect(answer.modelVersion).toBe("m@v1");
    expect((await recommend("u0", 2, drama)).cached).toBe(true);
    const similar = await harness!.service.similar("i2", 2, drama);
    expect(similar).toMatchObject({ modelVersion: "m@v1", fallback: false });
    expect(ids(similar)).toEqual(["i19", "i17"]);
  });

  it("cold users and fallbacks: popularity within the filter", async () => {
    await start();
    expect(picked(await recommend("nobody", 3, comedy))).toEqual([
      "i18:popular",
      "i16:popular",
      "i14:popular",
    ]);
    // Only two items are in "family": a filter that k items do not pass gets what there is.
    const family = await recommend("nobody", 5, { categories: ["family"], excludeCategories: [] });
    expect(ids(family)).toEqual(["i1", "i0"]);
  });

  it("the cache key holds the filter: no answer is served across filters, the same one is", async () => {
    await start();
    const plain = await recommend("u0", 3);
    expect(ids(plain)).toEqual(["i0", "i7", "i8"]);
    const filtered = await recommend("u0", 3, comedy);
    expect(filtered.cached).toBe(false);
    expect(ids(filtered)).toEqual(["i0", "i8", "i10"]);
    const drama = await recommend("u0", 3, { categories: ["drama"], excludeCategories: [] });
    expect(drama.cached).toBe(false);
    expect(ids(drama)).toEqual(["i7", "i9", "i11"]);
    expect((await recommend("u0", 3, comedy)).cached).toBe(true);
    expect(ids(await recommend("u0", 3))).toEqual(["i0", "i7", "i8"]);
    // The categories' order does not matter; an exclude list is another filter.
    const a = await recommend("u0", 3, { categories: ["family", "comedy"], excludeCategories: [] });
    const b = await recommend("u0", 3, { categories: ["comedy", "family"], excludeCategories: [] });
    expect(a.cached).toBe(false);
    expect(b.cached).toBe(true);
    const c = await recommend("u0", 3, { categories: ["comedy"], excludeCategories: ["family"] });
    expect(c.cached).toBe(false);
    expect(ids(c)).toEqual(["i8", "i10", "i12"]);
  });

  it("an item made unavailable leaves every answer at once, cached ones too, and comes back", async () => {
    await start();
    expect(ids(await recommend("u0", 3))).toEqual(["i0", "i7", "i8"]);
    expect(ids(await recommend("nobody", 3))).toEqual(["i19", "i18", "i17"]);
    expect((await recommend("u0", 3)).cached).toBe(true);

    change("i0", { available: false }, "2026-12-02T00:00:00.000Z");
    change("i19", { deletedAt: "2026-12-02T00:00:00.000Z" }, "2026-12-02T00:00:00.000Z");
    const warm = await recommend("u0", 3);
    expect(warm.cached).toBe(false);
    expect(ids(warm)).toEqual(["i7", "i8", "i9"]);
    expect(ids(await recommend("nobody", 3))).toEqual(["i18", "i17", "i16"]);
    expect(ids(await harness!.service.similar("i2", 3))).toEqual(["i1", "i3", "i4"]);

    change("i0", { available: true }, "2026-12-03T00:00:00.000Z");
    const back = await recommend("u0", 3);
    expect(back.cached).toBe(false);
    expect(ids(back)).toEqual(["i0", "i7", "i8"]);
    // An older change arriving late is ignored: i0 stays available.
    expect(change("i0", { available: false }, "2026-12-02T12:00:00.000Z")).toBe(false);
    expect(ids(await recommend("u0", 3))).toEqual(["i0", "i7", "i8"]);
  });

  it("an availability window: hidden before it opens and after it closes", async () => {
    await start();
    const hour = 3_600_000;
    const now = Date.now();
    change(
      "i0",
      { availableFrom: new Date(now + hour).toISOString(), availableUntil: null },
      "2026-12-02T00:00:00.000Z",
    );
    change(
      "i7",
      { availableFrom: null, availableUntil: new Date(now - hour).toISOString() },
      "2026-12-02T00:00:00.000Z",
    );
    change(
      "i8",
      {
        availableFrom: new Date(now - hour).toISOString(),
        availableUntil: new Date(now + hour).toISOString(),
      },
      "2026-12-02T00:00:00.000Z",
    );
    expect(ids(await recommend("u0", 3))).toEqual(["i8", "i9", "i10"]);
    expect(catalog.recommendable("i0", now + 2 * hour)).toBe(true);
    expect(catalog.recommendable("i8", now + 2 * hour)).toBe(false);
  });

  it("/similar: neighbours within the filter, available ones only, topped up from popularity", async () => {
    await start();
    // The model's neighbours of i0: i1, i2, i3, …; dramas are odd.
    const drama = { categories: ["drama"], excludeCategories: [] };
    expect(ids(await harness!.service.similar("i0", 3, drama))).toEqual(["i1", "i3", "i5"]);
    change("i1", { deletedAt: "2026-12-02T00:00:00.000Z" }, "2026-12-02T00:00:00.000Z");
    expect(ids(await harness!.service.similar("i0", 3, drama))).toEqual(["i3", "i5", "i7"]);
    // Only i0 and i1 are "family": i0 is the item itself and i1 is deleted, so nothing is left.
    const family = { categories: ["family"], excludeCategories: [] };
    expect(ids(await harness!.service.similar("i0", 3, family))).toEqual([]);
  });

  it("/similar on a model that returns few: popularity within the filter fills k", async () => {
    await start({ model: { limit: 2 } });
    // Neighbours of i0 from the model: i1, i2; comedies among them: i2; then popular comedies.
    const answer = await harness!.service.similar("i0", 3, comedy);
    expect(picked(answer)).toEqual(["i2:similar", "i18:popular", "i16:popular"]);
  });
});

describe("Catalog version", () => {
  const base = () => Catalog.fromItems(items());
  const off = (itemId: string, at: string): CatalogItem => ({
    ...base().get(itemId)!,
    available: false,
    updatedAt: at,
  });

  it("is the same for the same state whatever order the changes came in, and differs otherwise", () => {
    const a = base();
    const b = base();
    expect(a.version(0)).toBe(b.version(0));
    a.apply(off("i1", "2026-12-02T00:00:00.000Z"));
    expect(a.version(0)).not.toBe(b.version(0));
    a.apply(off("i2", "2026-12-02T00:00:01.000Z"));
    b.apply(off("i2", "2026-12-02T00:00:01.000Z"));
    b.apply(off("i1", "2026-12-02T00:00:00.000Z"));
    expect(a.version(0)).toBe(b.version(0));
    // Applying a change twice (redelivered) changes nothing.
    b.apply(off("i1", "2026-12-02T00:00:00.000Z"));
    expect(b.version(0)).toBe(a.version(0));
  });

  it("moves when an availability bound passes, and only then", () => {
    const catalog = base();
    const opens = Date.parse("2026-12-10T00:00:00.000Z");
    catalog.apply({
      ...catalog.get("i3")!,
      availableFrom: new Date(opens).toISOString(),
      updatedAt: "2026-12-02T00:00:00.000Z",
    });
    expect(catalog.version(opens - 1_000)).toBe(catalog.version(opens - 1));
    expect(catalog.version(opens)).not.toBe(catalog.version(opens - 1));
    expect(catalog.version(opens + 60_000)).toBe(catalog.version(opens));
    expect(catalog.recommendable("i3", opens - 1)).toBe(false);
    expect(catalog.recommendable("i3", opens)).toBe(true);
  });

  it("unknown categories are named; known ones match whatever their case", () => {
    const catalog = base();
    expect(
      catalog.unknownCategories({ categories: ["comedy", "comdy"], excludeCategories: ["horror"] }),
    ).toEqual(["comdy", "horror"]);
    expect(catalog.admits("i2", comedy)).toBe(true);
    expect(catalog.admits("i3", comedy)).toBe(false);
    // An item the catalog does not hold (known to a model only) is in no category.
    expect(catalog.admits("zz", comedy)).toBe(false);
    expect(catalog.admits("zz", notDrama)).toBe(true);
  });
});

describe("filter query parameters", () => {
  it("parses comma-separated categories, lower-cased and deduplicated", () => {
    const query = recommendQuerySchema.parse({
      category: "Comedy,Drama,comedy",
      excludeCategory: "Horror",
    });
    expect(query.category).toEqual(["comedy", "drama"]);
    expect(query.excludeCategory).toEqual(["horror"]);
    expect(similarQuerySchema.parse({ category: "Drama" }).category).toEqual(["drama"]);
    expect(recommendQuerySchema.parse({}).category).toBeUndefined();
  });

  it.each([
    [{ category: "" }, "category holds an empty category"],
    [{ category: "comedy,,drama" }, "category holds an empty category"],
    [{ excludeCategory: "x".repeat(65) }, "at most 64 characters"],
    [
      { category: Array.from({ length: 21 }, (_, i) => `c${i}`).join(",") },
      "at most 20 categories",
    ],
    [{ category: "comedy", excludeCategory: "Comedy" }, '"comedy" is both asked for and excluded'],
    [{ category: "a\u0007b" }, "control characters"],
    [{ categories: "comedy" }, "Unrecognized key"],
  ])("refuses %j: %s", (query, message) => {
    const parsed = recommendQuerySchema.safeParse(query);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => issue.message).join("; ")).toContain(message);
  });
});
