import { describe, expect, it, vi } from "vitest";
import { Catalog, type CatalogItem } from "../catalog.ts";
import { LoadedModel, type ServableModel } from "../model-pool.ts";
import { newItemsStrategy } from "./new-items.ts";
import type { StrategyContext } from "./strategy.ts";

const TRAINED_AT = "2026-01-01T00:00:00.000Z";
const BEFORE = "2025-12-01T00:00:00.000Z";
const AFTER = "2026-02-01T00:00:00.000Z";

const item = (itemId: string, title: string, genres: string[], createdAt: string): CatalogItem => ({
  itemId,
  title,
  genres,
  year: null,
  createdAt,
});

/** A model that knows `itemIds` (trained at TRAINED_AT); the strategy never scores with it. */
function modelKnowing(name: string, itemIds: string[]): LoadedModel {
  const model: ServableModel = {
    kind: "item-item",
    nItems: itemIds.length,
    itemIds,
    userIds: [],
    createdAt: TRAINED_AT,
    recommend: () => Promise.reject(new Error("not used")),
    release: () => Promise.resolve(),
  };
  return new LoadedModel({ name, version: "v1", artifactPath: "" }, model);
}

function context(catalog: Catalog, loaded: LoadedModel, seen: string[]): StrategyContext {
  return {
    ref: loaded.ref,
    seen,
    exclude: new Set(seen),
    routing: { foldInMinInteractions: 1, warmMinInteractions: 5 },
    catalog,
    model: () => Promise.resolve(loaded),
  } as unknown as StrategyContext;
}

describe("new items from content", () => {
  // "toy" and "animation" are shared by a and n1, "crime" (the category) by b and n2.
  const catalog = () =>
    Catalog.fromItems([
      item("a", "Toy Story", ["Comedy", "Animation"], BEFORE),
      item("b", "Heat", ["Action", "Crime"], BEFORE),
      item("n1", "Toy Soldiers", ["Animation"], AFTER),
      item("n2", "Crime Wave", ["Crime"], AFTER),
    ]);

  it("scores a new item by the TF-IDF cosine with the history", async () => {
    const strategy = newItemsStrategy(2);
    const [n1] = await strategy.fill(context(catalog(), modelKnowing("m", ["a", "b"]), ["a"]), 10);
    // Worked by hand: 4 described items, idf ln 4 for tokens of one item, ln 2 for two. a holds
    // comedy, animation, toy, story; n1 holds animation, toy, soldiers: the dot is 2·ln²2, the
    // norms ln 2·√10 and ln 2·√6, so the cosine is 2 / √60.
    expect(n1).toMatchObject({
      itemId: "n1",
      reason: "new_similar_content",
      title: "Toy Soldiers",
    });
    expect(n1!.score).toBeCloseTo(2 / Math.sqrt(60), 12);
  });

  it("models served side by side keep their own new items, and the catalog's content is made once per version", async () => {
    const held = catalog();
    const reads = vi.spyOn(held, "ids");
    const strategy = newItemsStrategy(2);
    const armA = modelKnowing("a-arm", ["a", "b"]);
    const armB = modelKnowing("b-arm", ["a", "b", "n1"]);
    const ids = async (loaded: LoadedModel, seen: string[]) =>
      (await strategy.fill(context(held, loaded, seen), 10)).map((answered) => answered.itemId);

    for (let round = 0; round < 5; round++) {
      expect(await ids(armA, ["a"])).toEqual(["n1"]);
      expect(await ids(armB, ["a"])).toEqual([]); // n1 is known to arm B; n2 shares nothing with a
      expect(await ids(armA, ["b"])).toEqual(["n2"]);
      expect(await ids(armB, ["b"])).toEqual(["n2"]);
    }
    expect(reads).toHaveBeenCalledTimes(1);

    // A catalog change is a new version: made again once, and both arms see the new item.
    held.apply(item("n3", "Toy Town", ["Animation"], AFTER));
    for (let round = 0; round < 3; round++) {
      expect(await ids(armA, ["a"])).toEqual(["n1", "n3"]);
      expect(await ids(armB, ["a"])).toEqual(["n3"]);
    }
    expect(reads).toHaveBeenCalledTimes(2);
  });
});
