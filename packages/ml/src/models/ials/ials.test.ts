import { describe, expect, it } from "vitest";
import type { Csr } from "../../data/csr.ts";
import { interactionsFromCsr } from "../../data/interactions.ts";
import { seededRandom } from "../../data/random.ts";
import type { FactorParams } from "../../params.ts";
import { TrainingDiverged } from "../errors.ts";
import { fitModel } from "../index.ts";
import { recommend } from "../score.ts";
import { foldInUser } from "./fold-in.ts";

/** Two communities: users < 150 pick 8 of items 0..29, the others 8 of items 30..59. */
function communities(value = 1): Csr {
  const random = seededRandom(11);
  const indptr = [0];
  const indices: number[] = [];
  for (let u = 0; u < 300; u++) {
    const offset = u < 150 ? 0 : 30;
    const picked = new Set<number>();
    while (picked.size < 8) picked.add(offset + random.int(30));
    indices.push(...[...picked].sort((a, b) => a - b));
    indptr.push(indices.length);
  }
  return {
    nRows: 300,
    nCols: 60,
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    values: new Float32Array(indices.length).fill(value),
  };
}

const base = { factors: 8, epochs: 6, regularization: 0.1, alpha: 5 };

describe("iALS", () => {
  it("gives identical factors on the main thread, one worker and two workers, and reports every epoch", async () => {
    const train = interactionsFromCsr(communities());
    const epochs: number[] = [];
    const inline = (await fitModel("ials", train, { ...base, threads: 0 })).model as FactorParams;
    const one = (await fitModel("ials", train, { ...base, threads: 1 })).model as FactorParams;
    const two = (
      await fitModel(
        "ials",
        train,
        { ...base, threads: 2 },
        { onProgress: (progress) => epochs.push(progress.epoch) },
      )
    ).model as FactorParams;
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(one.itemFactors)).toEqual(Array.from(inline.itemFactors));
    expect(Array.from(two.userFactors)).toEqual(Array.from(inline.userFactors));
    expect(two.userFactors.some((value) => value !== 0)).toBe(true);
  });

  it("learns the community structure and never recommends train items back", async () => {
    const matrix = communities();
    const train = interactionsFromCsr(matrix);
    // Two latent dimensions are enough for two communities (more would also fit noise within each).
    const { model } = await fitModel("ials", train, {
      ...base,
      factors: 2,
      epochs: 10,
      threads: 2,
    });
    for (const user of [0, 77, 150, 299]) {
      const seen = matrix.indices.subarray(matrix.indptr[user]!, matrix.indptr[user + 1]!);
      const ranked = recommend(model, { userIndex: user }, 10, seen);
      const inCommunity = Array.from(ranked.items).filter(
        (item) => item < 30 === user < 150,
      ).length;
      expect(inCommunity).toBe(10);
      for (const item of seen) expect(ranked.items).not.toContain(item);
    }
  });

  it("detects NaN/Infinity during training and throws a typed error", async () => {
    const train = interactionsFromCsr(communities(Number.POSITIVE_INFINITY));
    const failure = fitModel("ials", train, { ...base, threads: 2 });
    await expect(failure).rejects.toBeInstanceOf(TrainingDiverged);
    await expect(failure).rejects.toMatchObject({ reason: "training_diverged" });
    await expect(failure).rejects.toThrow(
      /ials training diverged at epoch 1: \d+ user vectors are NaN\/Infinity/,
    );
  });

  it("fold-in solves the user's normal equations exactly", async () => {
    const train = interactionsFromCsr(communities());
    const params = (await fitModel("ials", train, { ...base, threads: 0 })).model as FactorParams;
    const items = Int32Array.from([1, 4, 9]);
    const values = Float32Array.from([1, 2, 1]);
    const x = foldInUser(params, items, values);
    const k = params.factors;
    const Y = params.itemFactors;
    // residual of (YᵀY + Σ α·v y yᵀ + λI) x = Σ (1 + α·v) y, row by row
    for (let a = 0; a < k; a++) {
      let lhs = params.regularization * x[a]!;
      for (let i = 0; i < params.nItems; i++) {
        let dot = 0;
        for (let f = 0; f < k; f++) dot += Y[i * k + f]! * x[f]!;
        const position = items.indexOf(i);
        const extra = position >= 0 ? params.alpha * values[position]! : 0;
        lhs += (1 + extra) * dot * Y[i * k + a]!;
      }
      let rhs = 0;
      items.forEach((item, n) => (rhs += (1 + params.alpha * values[n]!) * Y[item * k + a]!));
      expect(lhs).toBeCloseTo(rhs, 4);
    }
    const ranked = recommend(params, { history: { items, values } }, 5);
    expect(Array.from(ranked.items).every((item) => item < 30)).toBe(true);
  });
});
