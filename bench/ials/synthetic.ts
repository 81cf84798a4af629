import { type Csr, seededRandom } from "@reco/ml";

export interface SyntheticShape {
  users: number;
  items: number;
  interactions: number;
  /** Zipf exponent of item popularity */
  itemSkew: number;
  /** fewest interactions per user (MovieLens keeps users with ≥ 20) */
  minPerUser: number;
}

/** MovieLens-20M: 138,493 users, 26,744 items, 20,000,263 ratings. */
export const MOVIELENS_20M: SyntheticShape = {
  users: 138_493,
  items: 26_744,
  interactions: 20_000_263,
  itemSkew: 1.0,
  minPerUser: 20,
};

export function scaled(shape: SyntheticShape, scale: number): SyntheticShape {
  return {
    ...shape,
    users: Math.max(100, Math.round(shape.users * scale)),
    items: Math.max(100, Math.round(shape.items * Math.sqrt(scale))),
    interactions: Math.max(2000, Math.round(shape.interactions * scale)),
  };
}

const share = (buffer: number, bytes: number) => new SharedArrayBuffer(Math.max(1, buffer) * bytes);

/** Walker's alias table: O(1) draws from a discrete distribution. */
function aliasTable(weights: Float64Array): { probability: Float64Array; alias: Int32Array } {
  const n = weights.length;
  let sum = 0;
  for (const weight of weights) sum += weight;
  const probability = Float64Array.from(weights, (weight) => (weight * n) / sum);
  const alias = new Int32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  probability.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const less = small.pop()!;
    const more = large.pop()!;
    alias[less] = more;
    probability[more] = probability[more]! + probability[less]! - 1;
    (probability[more]! < 1 ? small : large).push(more);
  }
  for (const i of [...small, ...large]) probability[i] = 1;
  return { probability, alias };
}

/**
 * A user × item CSR with Zipf item popularity and Pareto-tailed user activity, built straight
 * into SharedArrayBuffers (the iALS workers then share it without a copy). Items are drawn
 * without replacement per user, so the total matches `interactions` (up to rounding).
 */
export function syntheticInteractions(shape: SyntheticShape, seed = 7): Csr {
  const random = seededRandom(seed);
  // p(item of rank r) ∝ 1 / r^skew, ranks shuffled so popularity is not index order.
  const rank = Int32Array.from({ length: shape.items }, (_, i) => i);
  for (let i = shape.items - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [rank[i], rank[j]] = [rank[j]!, rank[i]!];
  }
  const { probability, alias } = aliasTable(
    Float64Array.from(rank, (r) => 1 / Math.pow(r + 1, shape.itemSkew)),
  );
  // User activity: minPerUser + Pareto(1.5) tail, rescaled to the target total.
  const weights = new Float64Array(shape.users);
  let weightSum = 0;
  for (let u = 0; u < shape.users; u++)
    weightSum += weights[u] = Math.pow(1 - random.next(), -1 / 1.5) - 1;
  const spare = shape.interactions - shape.minPerUser * shape.users;
  const cap = Math.floor(shape.items / 3);
  const indptr = new Int32Array(share(shape.users + 1, 4));
  // Users at the cap lose interactions; scale the others up until the total is reached.
  for (let boost = 1, round = 0; round < 8; round++) {
    for (let u = 0; u < shape.users; u++) {
      const count = Math.min(
        cap,
        shape.minPerUser + Math.round((weights[u]! / weightSum) * spare * boost),
      );
      indptr[u + 1] = indptr[u]! + count;
    }
    const total = indptr[shape.users]!;
    if (total >= shape.interactions * 0.999) break;
    boost *= 1 + (shape.interactions - total) / Math.max(1, total - shape.minPerUser * shape.users);
  }
  const nnz = indptr[shape.users]!;
  const indices = new Int32Array(share(nnz, 4));
  const taken = new Int32Array(shape.items).fill(-1);
  for (let u = 0; u < shape.users; u++) {
    const start = indptr[u]!;
    const end = indptr[u + 1]!;
    let filled = start;
    // Rejection keeps the popularity skew; a heavy user who exhausts the attempts takes the
    // remaining items from a random offset.
    for (let attempt = 0; filled < end && attempt < 30 * (end - start); attempt++) {
      const column = random.int(shape.items);
      const item = random.next() < probability[column]! ? column : alias[column]!;
      if (taken[item] !== u) {
        taken[item] = u;
        indices[filled++] = item;
      }
    }
    for (
      let item = random.int(shape.items), scanned = 0;
      filled < end && scanned < shape.items;
      scanned++
    ) {
      if (taken[item] !== u) {
        taken[item] = u;
        indices[filled++] = item;
      }
      item = (item + 1) % shape.items;
    }
    indices.subarray(start, end).sort();
  }
  const values = new Float32Array(share(nnz, 4)).fill(1);
  return { nRows: shape.users, nCols: shape.items, indptr, indices, values };
}
