/**
 * The cold-item protocol on a small synthetic catalogue: two genres, each user likes one. Items
 * held out of training are reachable only through content, so popularity never recommends them,
 * while content and hybrid recommend them to users of their genre.
 */
import { BadInput } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { coldItemSplit } from "../data/cold-items.ts";
import { buildInteractions } from "../data/interactions.ts";
import { itemContentFor } from "../data/item-content.ts";
import { LogBuilder } from "../data/log.ts";
import { seededRandom } from "../data/random.ts";
import { fitModel, recommend, userHistory } from "../models/index.ts";
import { evaluate } from "./evaluate.ts";

const N_ITEMS = 40;
const genreOf = (item: number) => (item < N_ITEMS / 2 ? "Comedy" : "Horror");

function events() {
  const random = seededRandom(3);
  const log = new LogBuilder();
  for (let u = 0; u < 30; u++) {
    const first = u % 2 === 0 ? 0 : N_ITEMS / 2;
    for (let n = 0; n < 8; n++) log.add(`u${u}`, `i${first + random.int(N_ITEMS / 2)}`, NaN, NaN);
  }
  return log.finish();
}

const descriptions = new Map(
  Array.from({ length: N_ITEMS }, (_, j) => [
    `i${j}`,
    { title: `Film number ${j}`, categories: [genreOf(j)] },
  ]),
);

describe("cold-item split", () => {
  it("holds a seeded share of the items out entirely: all their events in test, none in train", () => {
    const log = events();
    const split = coldItemSplit(log, { fraction: 0.1, seed: 5 });
    const withEvents = new Set(Array.from(log.item)).size;
    expect(split.heldOut.length).toBe(Math.round(withEvents * 0.1));
    const heldOut = new Set(split.heldOut);
    expect(Array.from(split.train.item).some((j) => heldOut.has(j))).toBe(false);
    expect(Array.from(split.test.item).every((j) => heldOut.has(j))).toBe(true);
    expect(split.train.length + split.test.length).toBe(log.length);
    expect(split.train.ids).toBe(log.ids);
    expect(Array.from(coldItemSplit(log, { fraction: 0.1, seed: 5 }).heldOut)).toEqual(
      Array.from(split.heldOut),
    );
    expect(Array.from(coldItemSplit(log, { fraction: 0.1, seed: 6 }).heldOut)).not.toEqual(
      Array.from(split.heldOut),
    );
  });

  it("refuses a fraction outside (0, 1)", () => {
    expect(() => coldItemSplit(events(), { fraction: 1 })).toThrow(BadInput);
    expect(() => coldItemSplit(events(), { fraction: 0 })).toThrow(/cold-items fraction/);
  });
});

describe("cold-item evaluation", () => {
  it("content and hybrid recommend held-out items to their future users; popularity never does", async () => {
    const log = events();
    const split = coldItemSplit(log, { fraction: 0.1, seed: 5 });
    const train = buildInteractions(split.train);
    train.itemContent = itemContentFor(train.ids.items, descriptions);
    const test = buildInteractions(split.test);
    const recall = async (kind: string, params: Record<string, number> = {}) => {
      const { model } = await fitModel(kind, train, params);
      return { model, recall: evaluate(model, train, test, { ks: [10] }).metrics["10"]!.recall };
    };
    const popularity = await recall("popularity");
    const content = await recall("content");
    const hybrid = await recall("hybrid");
    const withoutNewItems = await recall("hybrid", { newItemWeight: 0 });
    expect(popularity.recall).toBe(0);
    expect(content.recall).toBeGreaterThan(0.5);
    expect(hybrid.recall).toBeGreaterThan(0.5);
    // new items reach the hybrid through newItemWeight alone: at 0 none is ever recommended
    expect(withoutNewItems.recall).toBe(0);
    // a comedy fan's top 10 from content holds comedies only (the held-out ones among them)
    const u0 = train.ids.users.indexOf("u0");
    const top = recommend(content.model, { history: userHistory(train, u0) }, 10).items;
    const genres = Array.from(top, (j) => genreOf(Number(train.ids.items[j]!.slice(1))));
    expect(new Set(genres)).toEqual(new Set(["Comedy"]));
  });
});
