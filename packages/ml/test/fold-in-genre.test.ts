import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDelimited } from "../src/data/delimited.ts";
import { buildInteractions, type Interactions } from "../src/data/interactions.ts";
import { DEMO_RATINGS } from "../src/eval/compare.ts";
import { foldInUser } from "../src/models/ials/fold-in.ts";
import { fitModel } from "../src/models/index.ts";
import { recommend } from "../src/models/score.ts";
import type { FactorParams } from "../src/params.ts";

const MOVIES = path.join(path.dirname(DEMO_RATINGS), "movies.csv");

/** movieId → genres, from movies.csv (titles may contain quoted commas; genres are the last field). */
async function movieGenres(): Promise<Map<string, string[]>> {
  const genres = new Map<string, string[]>();
  const lines = (await readFile(MOVIES, "utf8")).split("\n").slice(1);
  for (const line of lines) {
    if (!line.trim()) continue;
    genres.set(
      line.slice(0, line.indexOf(",")),
      line
        .slice(line.lastIndexOf(",") + 1)
        .trim()
        .split("|"),
    );
  }
  return genres;
}

let train: Interactions;
let model: FactorParams;
let genres: Map<string, string[]>;

beforeAll(async () => {
  genres = await movieGenres();
  train = buildInteractions((await loadDelimited(DEMO_RATINGS)).log);
  // Trained on every demo rating with the default hyper-parameters; the new user is not in it.
  model = (await fitModel("ials", train)).model as FactorParams;
}, 300_000);

const hasGenre = (item: number, genre: string) =>
  genres.get(train.ids.items[item]!)?.includes(genre) ?? false;

/** The 5 most-rated movies of the genre that carry at most one other genre. */
function seedItems(genre: string): Int32Array {
  const { indptr } = train.itemUsers;
  const candidates: number[] = [];
  for (let item = 0; item < train.nItems; item++) {
    const list = genres.get(train.ids.items[item]!) ?? [];
    if (list.includes(genre) && list.length <= 2) candidates.push(item);
  }
  candidates.sort((a, b) => indptr[b + 1]! - indptr[b]! - (indptr[a + 1]! - indptr[a]!) || a - b);
  return Int32Array.from(candidates.slice(0, 5));
}

describe("fold-in on the demo data", () => {
  it.each(["Animation", "Sci-Fi", "Musical"])(
    "a user unseen at training with 5 %s movies gets a top-10 dominated by %s",
    (genre) => {
      const items = seedItems(genre);
      expect(items).toHaveLength(5);
      const vector = foldInUser(model, items);
      expect(vector).toHaveLength(model.factors);
      const top = recommend(model, { history: { items } }, 10).items;
      expect(top).toHaveLength(10);
      for (const item of items) expect(top).not.toContain(item);
      const inGenre = Array.from(top).filter((item) => hasGenre(item, genre)).length;
      expect(inGenre).toBeGreaterThanOrEqual(6);
    },
  );
});
