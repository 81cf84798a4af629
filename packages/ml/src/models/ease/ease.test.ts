/**
 * EASE^R against a dense numpy reference (scripts/ease-reference/generate.py, its JSON committed):
 * P = (XᵀX + λI)⁻¹ and B = I − P·diagMat(1/diag(P)), diag(B) = 0, to 1e-4.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Interactions, LogBuilder, buildInteractions } from "../../data/index.ts";
import { fitModel } from "../index.ts";
import { recommend } from "../score.ts";
import { easeItems, easeSolve, easeWeights } from "./ease.ts";

interface ReferenceCase {
  name: string;
  nUsers: number;
  nItems: number;
  lambda: number;
  pairs: [number, number][];
  P: number[];
  B: number[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const reference = JSON.parse(
  readFileSync(path.join(here, "../../../../../scripts/ease-reference/reference.json"), "utf8"),
) as { cases: ReferenceCase[] };

function interactionsOf(c: ReferenceCase): { train: Interactions; index: number[] } {
  const log = new LogBuilder();
  for (const [u, i] of c.pairs) log.add(`u${u}`, `i${i}`, NaN, NaN);
  const train = buildInteractions(log.finish());
  // reference item i → catalogue index
  const index = Array.from({ length: c.nItems }, (_, i) => train.ids.items.indexOf(`i${i}`));
  return { train, index };
}

describe("EASE^R matches the numpy reference", () => {
  for (const c of reference.cases) {
    it(`${c.name}: ${c.nUsers} users × ${c.nItems} items, λ ${c.lambda}: P and the whole B to 1e-4`, async () => {
      const { train, index } = interactionsOf(c);
      expect(index.every((k) => k >= 0)).toBe(true);
      // base 8 forces the blocked (Schur complement) path on the 41-item case
      for (const base of [1024, 8]) {
        const solution = await easeSolve(train, { lambda: c.lambda, maxItems: 100, base });
        const n = solution.items.length;
        expect(n).toBe(c.nItems);
        const at = new Int32Array(train.nItems);
        solution.items.forEach((item, k) => (at[item] = k));
        let maxP = 0;
        for (let i = 0; i < c.nItems; i++)
          for (let j = 0; j < c.nItems; j++) {
            const ours = solution.p[at[index[i]!]! * n + at[index[j]!]!]!;
            maxP = Math.max(maxP, Math.abs(ours - c.P[i * c.nItems + j]!));
          }
        expect(maxP, `P, base ${base}`).toBeLessThan(1e-4);
      }
      const { model } = await fitModel("ease", train, { lambda: c.lambda, neighbours: 100_000 });
      if (model.kind !== "item-item") throw new Error("ease must give item-item parameters");
      const dense = new Float64Array(train.nItems * train.nItems);
      for (let h = 0; h < train.nItems; h++)
        for (let e = model.indptr[h]!; e < model.indptr[h + 1]!; e++)
          dense[h * train.nItems + model.indices[e]!] = model.weights[e]!;
      let maxB = 0;
      for (let i = 0; i < c.nItems; i++)
        for (let j = 0; j < c.nItems; j++) {
          const ours = dense[index[i]! * train.nItems + index[j]!]!;
          maxB = Math.max(maxB, Math.abs(ours - c.B[i * c.nItems + j]!));
        }
      expect(maxB).toBeLessThan(1e-4);
      // diag(B) = 0 is structural: no self weight is stored
      for (let h = 0; h < train.nItems; h++)
        for (let e = model.indptr[h]!; e < model.indptr[h + 1]!; e++)
          expect(model.indices[e]).not.toBe(h);
    });
  }

  it("keeps per candidate item the weights of largest magnitude, and scores history · B", async () => {
    const c = reference.cases[0]!;
    const { train, index } = interactionsOf(c);
    const n = c.nItems;
    const { model } = await fitModel("ease", train, { lambda: c.lambda, neighbours: 2 });
    if (model.kind !== "item-item") throw new Error("ease must give item-item parameters");
    expect(model.indptr[train.nItems]).toBe(2 * n);
    for (let t = 0; t < n; t++) {
      // the reference column t without its diagonal, largest |B[h][t]| first
      const column = Array.from({ length: n }, (_, h) => ({ h, w: c.B[h * n + t]! }))
        .filter((e) => e.h !== t)
        .sort((a, b) => Math.abs(b.w) - Math.abs(a.w));
      const kept = new Map<number, number>();
      for (let h = 0; h < n; h++)
        for (let e = model.indptr[index[h]!]!; e < model.indptr[index[h]! + 1]!; e++)
          if (model.indices[e] === index[t]) kept.set(h, model.weights[e]!);
      expect([...kept.keys()].sort()).toEqual(
        column
          .slice(0, 2)
          .map((e) => e.h)
          .sort(),
      );
      for (const [h, w] of kept) expect(w).toBeCloseTo(c.B[h * n + t]!, 4);
    }
    // a new user with history {item 0, item 1}: scores = B[0][t] + B[1][t] over kept weights
    const full = await fitModel("ease", train, { lambda: c.lambda, neighbours: 100 });
    const top = recommend(
      full.model,
      { history: { items: Int32Array.from([index[0]!, index[1]!]) } },
      n - 2,
    );
    const expected = Array.from({ length: n }, (_, t) => ({
      t,
      s: c.B[0 * n + t]! + c.B[1 * n + t]!,
    }))
      .filter((e) => e.t > 1)
      .sort((a, b) => b.s - a.s);
    expect(Array.from(top.items)).toEqual(expected.map((e) => index[e.t]!));
  });

  it("solves only the most popular items beyond maxItems; the others get no weights", async () => {
    const c = reference.cases[1]!;
    const { train } = interactionsOf(c);
    const users = Array.from(
      { length: train.nItems },
      (_, i) => train.itemUsers.indptr[i + 1]! - train.itemUsers.indptr[i]!,
    );
    const chosen = Array.from(easeItems(train, 10));
    expect(chosen).toHaveLength(10);
    const threshold = Math.min(...chosen.map((i) => users[i]!));
    // every left-out item has at most as many users as the least popular chosen one
    for (let i = 0; i < train.nItems; i++)
      if (!chosen.includes(i)) expect(users[i]!).toBeLessThanOrEqual(threshold);
    const { model } = await fitModel("ease", train, { lambda: 5, maxItems: 10 });
    if (model.kind !== "item-item") throw new Error("ease must give item-item parameters");
    for (let h = 0; h < train.nItems; h++) {
      const width = model.indptr[h + 1]! - model.indptr[h]!;
      expect(width, `item ${h}`).toBe(chosen.includes(h) ? 9 : 0);
      for (let e = model.indptr[h]!; e < model.indptr[h + 1]!; e++)
        expect(chosen).toContain(model.indices[e]);
    }
    expect(() =>
      easeWeights({ items: Int32Array.from([0]), p: Float64Array.from([-1]) }, 1, 5),
    ).toThrow(/ease training diverged at epoch 1: diag\(P\) of item 0 is -1/);
  });
});
