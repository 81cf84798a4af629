/**
 * Item-item models against exact similarities of a tiny data set computed apart
 * (scripts/item-item-reference/generate.py, pure Python with fractions; its JSON committed):
 * pruning per candidate (column) vs per history item (row), row normalisation, RP3beta's
 * popularity penalty, item-kNN's asymmetric cosine and popularity penalty.
 *
 * One row checked by hand: item a is only in u5 = {a, e, f}, so P3alpha (α = 1) gives
 * S[a, e] = S[a, f] = 1 · 1/3, and normalised 1/2 each.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LogBuilder } from "../data/log.ts";
import { buildInteractions } from "../data/interactions.ts";
import type { ItemItemParams } from "../params.ts";
import { InvalidHyperParameter } from "./errors.ts";
import { fitModel } from "./index.ts";

interface ReferenceCase {
  name: string;
  kind: string;
  params: Record<string, number>;
  similarity: number[][];
}
const here = path.dirname(fileURLToPath(import.meta.url));
const reference = JSON.parse(
  readFileSync(path.join(here, "../../../../scripts/item-item-reference/reference.json"), "utf8"),
) as { items: string[]; histories: Record<string, string[]>; cases: ReferenceCase[] };

const log = new LogBuilder();
for (const [user, items] of Object.entries(reference.histories)) {
  for (const item of items) log.add(user, item, Number.NaN, Number.NaN);
}
const train = buildInteractions(log.finish());
const indexOf = reference.items.map((id) => train.ids.items.indexOf(id));

/** The model's S in the reference's item order, row = history item. */
function dense(params: ItemItemParams): number[][] {
  const n = reference.items.length;
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const position = new Map(indexOf.map((index, r) => [index, r]));
  for (let h = 0; h < params.nItems; h++) {
    for (let e = params.indptr[h]!; e < params.indptr[h + 1]!; e++) {
      out[position.get(h)!]![position.get(params.indices[e]!)!] = params.weights[e]!;
    }
  }
  return out;
}

async function fitted(kind: string, params: Record<string, unknown>): Promise<number[][]> {
  const { model } = await fitModel(kind, train, params);
  if (model.kind !== "item-item") throw new Error(`${kind} must fit item-item params`);
  return dense(model);
}

describe("item-item similarities equal the exact reference", () => {
  it("the reference items all exist in the training data", () => {
    expect(indexOf.every((i) => i >= 0)).toBe(true);
  });

  for (const c of reference.cases) {
    it(c.name, async () => {
      const got = await fitted(c.kind, c.params);
      got.forEach((row, h) =>
        row.forEach((value, t) => expect(value).toBeCloseTo(c.similarity[h]![t]!, 6)),
      );
      // neighbour sets exactly: an entry kept or dropped is never a rounding matter
      expect(got.map((row) => row.map((v) => v > 0))).toEqual(
        c.similarity.map((row) => row.map((v) => v > 0)),
      );
    });
  }

  it("column and row pruning keep different neighbours here, and normalised rows sum to 1", async () => {
    const byColumn = await fitted("p3alpha", { neighbours: 2, prune: "column", normalize: "on" });
    const byRow = await fitted("p3alpha", { neighbours: 2, prune: "row", normalize: "on" });
    expect(byColumn).not.toEqual(byRow);
    for (const row of [...byColumn, ...byRow]) {
      const sum = row.reduce((a, b) => a + b, 0);
      if (sum > 0) expect(sum).toBeCloseTo(1, 6);
    }
    // row pruning: every history item keeps at most k successors
    expect(byRow.every((row) => row.filter((v) => v > 0).length <= 2)).toBe(true);
    // column pruning: every candidate keeps at most k history items
    for (let t = 0; t < byColumn.length; t++)
      expect(byColumn.filter((row) => row[t]! > 0).length).toBeLessThanOrEqual(2);
    // hand-computed row of item a (see the header)
    expect(byColumn[0]).toEqual([0, 0, 0, 0, 0.5, 0.5]);
  });

  it("names a choice parameter's value or its index; anything else is refused clearly", async () => {
    expect(await fitted("item-knn", { prune: "row", neighbours: 2 })).toEqual(
      await fitted("item-knn", { prune: 1, neighbours: 2 }),
    );
    await expect(fitModel("rp3beta", train, { prune: "diagonal" })).rejects.toThrow(
      InvalidHyperParameter,
    );
    await expect(fitModel("rp3beta", train, { prune: "diagonal" })).rejects.toThrow(
      /"prune" must be one of column, row \(or its index\), got "diagonal"/,
    );
    await expect(fitModel("p3alpha", train, { normalize: 2 })).rejects.toThrow(
      /"normalize" must be in \[0, 1\], got 2/,
    );
  });
});
