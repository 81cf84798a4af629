/**
 * Small random parameter sets of every kind, for export tests and the registry/CLI tests: seeded,
 * with distinct scores (no ties) so top-k orders are unambiguous.
 */
import type { Csr } from "../data/csr.ts";
import { seededRandom } from "../data/random.ts";
import type { FactorParams, ItemItemParams, PopularityParams } from "../params.ts";

export function randomFactorParams(
  nUsers: number,
  nItems: number,
  factors: number,
  seed = 1,
): FactorParams {
  const rnd = seededRandom(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd.normal() * 0.3);
  return {
    kind: "factors",
    factors,
    nUsers,
    nItems,
    userFactors: fill(nUsers * factors),
    itemFactors: fill(nItems * factors),
    regularization: 0.05,
    alpha: 2,
  };
}

/** Each item gets between 0 and maxNeighbours distinct neighbours (varying widths exercise padding). */
export function randomItemItemParams(
  nItems: number,
  maxNeighbours: number,
  seed = 2,
): ItemItemParams {
  const rnd = seededRandom(seed);
  const indptr = new Int32Array(nItems + 1);
  const indices: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < nItems; i++) {
    const count = rnd.int(maxNeighbours + 1);
    const picked = new Set<number>();
    while (picked.size < Math.min(count, nItems - 1)) {
      const j = rnd.int(nItems);
      if (j !== i) picked.add(j);
    }
    for (const j of [...picked].sort((a, b) => a - b)) {
      indices.push(j);
      weights.push(0.05 + rnd.next());
    }
    indptr[i + 1] = indices.length;
  }
  return {
    kind: "item-item",
    nItems,
    indptr,
    indices: Int32Array.from(indices),
    weights: Float32Array.from(weights),
  };
}

export function randomPopularityParams(
  nItems: number,
  contexts: string[],
  seed = 3,
): PopularityParams {
  const rnd = seededRandom(seed);
  const scores: Record<string, Float32Array> = {};
  for (const c of ["", ...contexts])
    scores[c] = Float32Array.from({ length: nItems }, () => rnd.next() * 100);
  return { kind: "popularity", nItems, scores };
}

/** users × items history with 0..maxPerUser distinct items per user. */
export function randomHistory(nUsers: number, nItems: number, maxPerUser: number, seed = 4): Csr {
  const rnd = seededRandom(seed);
  const indptr = new Int32Array(nUsers + 1);
  const indices: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const items = new Set<number>();
    const count = rnd.int(maxPerUser + 1);
    while (items.size < Math.min(count, nItems)) items.add(rnd.int(nItems));
    indices.push(...[...items].sort((a, b) => a - b));
    indptr[u + 1] = indices.length;
  }
  return {
    nRows: nUsers,
    nCols: nItems,
    indptr,
    indices: Int32Array.from(indices),
    values: new Float32Array(indices.length).fill(1),
  };
}
