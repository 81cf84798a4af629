import { describe, expect, it } from "vitest";
import { PopularityRanker } from "./popularity.ts";

const ranker = new PopularityRanker({
  global: ["a", "b", "c", "d", "e"].map((itemId, i) => ({ itemId, count: 50 - i })),
  byContext: new Map([
    [
      "device:tv",
      [
        { itemId: "e", count: 9 },
        { itemId: "c", count: 3 },
      ],
    ],
    ["country:fr", [{ itemId: "d", count: 4 }]],
  ]),
});

describe("PopularityRanker", () => {
  it("ranks globally and skips excluded items", () => {
    expect(ranker.top(3, new Set(["b"])).map((i) => i.itemId)).toEqual(["a", "c", "d"]);
  });

  it("puts the context's favourites first, then fills from the global list without duplicates", () => {
    expect(ranker.top(4, new Set(), { device: "tv" }).map((i) => i.itemId)).toEqual([
      "e",
      "c",
      "a",
      "b",
    ]);
    expect(ranker.top(3, new Set(), { device: "tv", country: "fr" }).map((i) => i.itemId)).toEqual([
      "e",
      "c",
      "d",
    ]);
  });

  it("an unknown context falls back to the global list", () => {
    expect(ranker.top(2, new Set(), { device: "fridge" }).map((i) => i.itemId)).toEqual(["a", "b"]);
  });

  it("returns fewer than k when the catalog runs out", () => {
    expect(ranker.top(10, new Set(["a"]))).toHaveLength(4);
  });
});
