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

/**
 * A user × item CSR with Zipf item popularity and Pareto-tailed user activity, built straight
 * into SharedArrayBuffers (the iALS workers then share it without a copy). Duplicate picks
 * within a user are dropped, so nnz ends slightly below `interactions`.
 */
export function syntheticInteractions(shape: SyntheticShape, seed = 7): Csr {
  const random = seededRandom(seed);
  // Item CDF for p(i) ∝ 1 / (i + 1)^skew, items shuffled so popularity is not index order.
  const cdf = new Float64Array(shape.items);
  let total = 0;
  for (let i = 0; i < shape.items; i++) cdf[i] = total += 1 / Math.pow(i + 1, shape.itemSkew);
  for (let i = 0; i < shape.items; i++) cdf[i]! /= total;
  const permutation = Int32Array.from({ length: shape.items }, (_, i) => i);
  for (let i = shape.items - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [permutation[i], permutation[j]] = [permutation[j]!, permutation[i]!];
  }
  // User activity: minPerUser + Pareto(1.5) tail, rescaled to the target total.
  const weights = new Float64Array(shape.users);
  let weightSum = 0;
  for (let u = 0; u < shape.users; u++)
    weightSum += weights[u] = Math.pow(1 - random.next(), -1 / 1.5) - 1;
  const spare = shape.interactions - shape.minPerUser * shape.users;
  const cap = Math.floor(shape.items / 2);
  const indptr = new Int32Array(share(shape.users + 1, 4));
  for (let u = 0; u < shape.users; u++) {
    const count = Math.min(cap, shape.minPerUser + Math.round((weights[u]! / weightSum) * spare));
    indptr[u + 1] = indptr[u]! + count;
  }
  const drawn = new Int32Array(indptr[shape.users]!);
  for (let u = 0; u < shape.users; u++) {
    for (let n = indptr[u]!; n < indptr[u + 1]!; n++) {
      const x = random.next();
      let low = 0;
      let high = shape.items - 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (cdf[mid]! < x) low = mid + 1;
        else high = mid;
      }
      drawn[n] = permutation[low]!;
    }
    drawn.subarray(indptr[u]!, indptr[u + 1]!).sort();
  }
  // Compact duplicates per row.
  let nnz = 0;
  const compactPtr = new Int32Array(share(shape.users + 1, 4));
  for (let u = 0; u < shape.users; u++) {
    let previous = -1;
    for (let n = indptr[u]!; n < indptr[u + 1]!; n++) {
      if (drawn[n] !== previous) drawn[nnz++] = previous = drawn[n]!;
    }
    compactPtr[u + 1] = nnz;
  }
  const indices = new Int32Array(share(nnz, 4));
  indices.set(drawn.subarray(0, nnz));
  const values = new Float32Array(share(nnz, 4)).fill(1);
  return { nRows: shape.users, nCols: shape.items, indptr: compactPtr, indices, values };
}
