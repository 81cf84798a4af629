/**
 * The content model against exact TF-IDF cosines of a tiny catalogue computed apart
 * (scripts/content-reference/generate.py, pure Python from the definitions; its JSON committed),
 * and the hybrid blend against a case computed by hand.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BadInput } from "@reco/contracts";
import { describe, expect, it } from "vitest";
import { buildInteractions } from "../data/interactions.ts";
import {
  contentTokens,
  itemContentFor,
  loadItemDescriptions,
  type ItemDescription,
} from "../data/item-content.ts";
import { LogBuilder } from "../data/log.ts";
import type { ItemItemParams } from "../params.ts";
import { tfidfVectors } from "./content.ts";
import { blendItemItem } from "./hybrid.ts";
import { fitModel } from "./index.ts";

interface CatalogueRow {
  id: string;
  title: string;
  genres: string;
  tags?: string;
}
const here = path.dirname(fileURLToPath(import.meta.url));
const reference = JSON.parse(
  readFileSync(path.join(here, "../../../../scripts/content-reference/reference.json"), "utf8"),
).content as {
  catalogue: CatalogueRow[];
  tokens: string[][];
  idf: Record<string, number>;
  k: number;
  cosine: number[][];
  pruned: number[][];
};

const describe_ = (row: CatalogueRow): ItemDescription => ({
  title: row.title,
  categories: row.genres.split("|"),
  tags: row.tags ? row.tags.split(/[|;]/) : [],
});
const ids = reference.catalogue.map((row) => row.id);
const descriptions = new Map(reference.catalogue.map((row) => [row.id, describe_(row)]));

/** Interactions over the catalogue's ids, in its order, with the metadata attached. */
function catalogueTrain() {
  const log = new LogBuilder();
  for (const id of ids) log.add("u0", id, Number.NaN, Number.NaN);
  const all = buildInteractions(log.finish());
  return { train: { ...all, itemContent: itemContentFor(all.ids.items, descriptions) } };
}

function dense(params: ItemItemParams): number[][] {
  const n = params.nItems;
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let h = 0; h < n; h++)
    for (let e = params.indptr[h]!; e < params.indptr[h + 1]!; e++)
      out[h]![params.indices[e]!] = params.weights[e]!;
  return out;
}

describe("content tokens and TF-IDF", () => {
  it("tokens: categories, tags and title words of two or more characters, '(no genres listed)' dropped", () => {
    reference.catalogue.forEach((row, j) => {
      expect(contentTokens(describe_(row)).sort()).toEqual(reference.tokens[j]);
    });
  });

  it("idf = ln(N / df) over the described items", () => {
    const vectors = tfidfVectors(itemContentFor(ids, descriptions));
    for (const [token, idf] of Object.entries(reference.idf)) {
      expect(vectors.idf[vectors.vocabulary.get(token)!]).toBeCloseTo(idf, 12);
    }
    expect(vectors.vocabulary.size).toBe(Object.keys(reference.idf).length);
  });
});

describe("content model", () => {
  it("equals the reference cosines pruned to k per candidate, an item without tokens has no edge", async () => {
    const { train } = catalogueTrain();
    expect(train.ids.items).toEqual(ids);
    const { model } = await fitModel("content", train, { neighbours: reference.k });
    if (model.kind !== "item-item") throw new Error("content must fit item-item params");
    const got = dense(model);
    reference.pruned.forEach((row, h) =>
      row.forEach((want, t) => expect(got[h]![t]).toBeCloseTo(want, 6)),
    );
    const g = ids.indexOf("g");
    expect(got[g]!.every((x) => x === 0)).toBe(true);
    expect(got.every((row) => row[g] === 0)).toBe(true);
  });

  it("with every neighbour kept, the similarity is the full cosine matrix", async () => {
    const { train } = catalogueTrain();
    const { model } = await fitModel("content", train, { neighbours: 50 });
    if (model.kind !== "item-item") throw new Error("content must fit item-item params");
    const got = dense(model);
    reference.cosine.forEach((row, h) =>
      row.forEach((want, t) => expect(got[h]![t]).toBeCloseTo(want, 6)),
    );
  });

  it("refuses to fit without item metadata, naming --items", async () => {
    const log = new LogBuilder();
    log.add("u0", "a", Number.NaN, Number.NaN);
    const train = buildInteractions(log.finish());
    await expect(fitModel("content", train)).rejects.toThrow(BadInput);
    await expect(fitModel("hybrid", train)).rejects.toThrow(/--items FILE/);
  });
});

describe("catalogue file", () => {
  it("reads MovieLens movies.csv as is (quoted titles with commas, genres split by |)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "reco-items-"));
    try {
      const file = path.join(dir, "movies.csv");
      await writeFile(
        file,
        'movieId,title,genres\n1,"American President, The (1995)",Comedy|Drama|Romance\n2,Heat (1995),(no genres listed)\n',
      );
      const read = await loadItemDescriptions(file);
      expect(read.get("1")).toEqual({
        title: "American President, The (1995)",
        categories: ["Comedy", "Drama", "Romance"],
        tags: [],
      });
      expect(contentTokens(read.get("2")!).sort()).toEqual(["word:1995", "word:heat"]);
      await writeFile(file, "name,genres\nHeat,Action\n");
      await expect(loadItemDescriptions(file)).rejects.toThrow(/needs an id column/);
      await expect(loadItemDescriptions(path.join(dir, "absent.csv"))).rejects.toThrow(
        /absent\.csv: cannot read/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("hybrid blend", () => {
  const params = (rows: Record<number, number>[]): ItemItemParams => {
    const indptr = new Int32Array(rows.length + 1);
    const indices: number[] = [];
    const weights: number[] = [];
    rows.forEach((row, h) => {
      for (const [t, w] of Object.entries(row)) {
        indices.push(Number(t));
        weights.push(w);
      }
      indptr[h + 1] = indices.length;
    });
    return {
      kind: "item-item",
      nItems: rows.length,
      indptr,
      indices: Int32Array.from(indices),
      weights: Float32Array.from(weights),
    };
  };

  it("scales each similarity by its mean non-empty row sum, blends by the weight, new items take newItemWeight", () => {
    // collaborative: rows sum 2 and 6 over 2 non-empty rows → scale 2 / 8; content: scale 2 / 2.
    const collaborative = params([{ 1: 2 }, { 0: 2, 2: 4 }, {}]);
    const content = params([{ 2: 0.5 }, {}, { 0: 0.5, 1: 1 }]);
    const blended = blendItemItem(collaborative, content, 0.25, Uint8Array.of(0, 0, 1), 2);
    // by hand: row 0: t1 = 0.75 · 0.5, t2 (new) = 2 · 0.5; row 1: t0 = 0.75 · 0.5, t2 = 0.75 · 1;
    // row 2: t0 = 0.25 · 0.5, t1 = 0.25 · 1
    expect(Array.from(blended.indptr)).toEqual([0, 2, 4, 6]);
    expect(Array.from(blended.indices)).toEqual([1, 2, 0, 2, 0, 1]);
    expect(Array.from(blended.weights)).toEqual([0.375, 1, 0.375, 0.75, 0.125, 0.25]);
  });

  it("weight 0 is the scaled collaborative similarity alone (no new items)", () => {
    const collaborative = params([{ 1: 2 }, { 0: 2, 2: 4 }, {}]);
    const content = params([{ 2: 0.5 }, {}, { 0: 0.5, 1: 1 }]);
    const blended = blendItemItem(collaborative, content, 0);
    expect(Array.from(blended.indices)).toEqual([1, 0, 2]);
    expect(Array.from(blended.weights)).toEqual([0.5, 0.5, 1]);
  });
});
