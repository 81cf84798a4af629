import type { Interactions } from "../../data/interactions.ts";
import type { ItemItemParams } from "../../params.ts";
import { TrainingDiverged } from "../errors.ts";
import type { Recommender } from "../recommender.ts";
import { topK } from "../top-k.ts";
import { type SpdInverseOptions, spdInverse } from "./spd-inverse.ts";

export interface EaseOptions extends SpdInverseOptions {
  /** L2 weight λ on the diagonal of the Gram matrix */
  lambda: number;
  /** at most this many items (the most popular, by distinct users) enter the dense solve */
  maxItems: number;
}

export interface EaseSolution {
  /** catalogue indices of the solved items, in solve order (most popular first) */
  items: Int32Array;
  /** P = (XᵀX + λI)⁻¹ over `items`, row-major, symmetric */
  p: Float64Array;
}

/**
 * The items of the dense solve: every item with a train interaction when they are at most
 * `maxItems`, else the `maxItems` with the most distinct users (ties to the lower index).
 */
export function easeItems(train: Interactions, maxItems: number): Int32Array {
  const users = new Float64Array(train.nItems);
  for (let i = 0; i < train.nItems; i++) {
    const count = train.itemUsers.indptr[i + 1]! - train.itemUsers.indptr[i]!;
    users[i] = count > 0 ? count : -Infinity; // items without interactions get no weights
  }
  return topK(users, maxItems).items;
}

/** P = (XᵀX + λI)⁻¹ over the chosen items; X holds the interaction values (confidence). */
export async function easeSolve(train: Interactions, options: EaseOptions): Promise<EaseSolution> {
  const items = easeItems(train, options.maxItems);
  const n = items.length;
  if (n === 0) return { items, p: new Float64Array(0) };
  // Only the holder references the Gram matrix, so the solve can free it once it is in blocks.
  return {
    items,
    p: await spdInverse({ matrix: gramOf(train, items, options.lambda) }, n, options),
  };
}

/** XᵀX + λI over `items` (row-major), X holding the interaction values. */
function gramOf(train: Interactions, items: Int32Array, lambda: number): Float64Array {
  const n = items.length;
  const position = new Int32Array(train.nItems).fill(-1);
  items.forEach((item, k) => (position[item] = k));
  const gram = new Float64Array(n * n);
  const { indptr, indices, values } = train.userItems;
  const rowPositions = new Int32Array(train.nItems);
  const rowValues = new Float64Array(train.nItems);
  for (let u = 0; u < train.nUsers; u++) {
    let m = 0;
    for (let e = indptr[u]!; e < indptr[u + 1]!; e++) {
      const k = position[indices[e]!]!;
      if (k < 0) continue;
      rowPositions[m] = k;
      rowValues[m++] = values[e]!;
    }
    for (let a = 0; a < m; a++) {
      const row = rowPositions[a]! * n;
      const va = rowValues[a]!;
      for (let b = 0; b < m; b++) gram[row + rowPositions[b]!]! += va * rowValues[b]!;
    }
  }
  for (let k = 0; k < n; k++) gram[k * n + k]! += lambda;
  return gram;
}

/**
 * B = I − P·diagMat(1/diag(P)) with diag(B) = 0, i.e. B[h][t] = −P[h][t] / P[t][t] (h ≠ t), kept as
 * "history item → target" CSR. Per target t (a column, read as row t of the symmetric P), the
 * `neighbours` weights of largest magnitude are kept; `neighbours` ≥ n − 1 keeps B whole.
 */
export function easeWeights(
  solution: EaseSolution,
  nItems: number,
  neighbours: number,
): ItemItemParams {
  const { items, p } = solution;
  const n = items.length;
  const keep = Math.min(neighbours, Math.max(n - 1, 0));
  const magnitude = new Float64Array(n);
  const rows = new Int32Array(n * keep);
  const weights = new Float64Array(n * keep);
  const counts = new Int32Array(nItems + 1);
  for (let t = 0; t < n; t++) {
    const diagonal = p[t * n + t]!;
    if (!(diagonal > 0) || !Number.isFinite(diagonal)) {
      throw new TrainingDiverged("ease", 1, `diag(P) of item ${items[t]} is ${diagonal}`);
    }
    for (let h = 0; h < n; h++) magnitude[h] = Math.abs(p[t * n + h]!);
    magnitude[t] = -Infinity;
    const kept = topK(magnitude, keep).items;
    for (let r = 0; r < kept.length; r++) {
      const h = kept[r]!;
      rows[t * keep + r] = h;
      weights[t * keep + r] = -p[t * n + h]! / diagonal;
      counts[items[h]! + 1]!++;
    }
  }
  const indptr = new Int32Array(nItems + 1);
  for (let i = 0; i < nItems; i++) indptr[i + 1] = indptr[i]! + counts[i + 1]!;
  const fill = indptr.slice(0, nItems);
  const indices = new Int32Array(indptr[nItems]!);
  const out = new Float32Array(indptr[nItems]!);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < keep; r++) {
      const w = weights[t * keep + r]!;
      if (!Number.isFinite(w)) throw new TrainingDiverged("ease", 1, `weight ${w}`);
      const row = items[rows[t * keep + r]!]!;
      const at = fill[row]!++;
      indices[at] = items[t]!;
      out[at] = w;
    }
  }
  return { kind: "item-item", nItems, indptr, indices, weights: out };
}

/**
 * EASE^R (Steck 2019): the closed-form item-item model with one L2 weight λ,
 * B = I − P·diagMat(1/diag(P)), P = (XᵀX + λI)⁻¹, diag(B) = 0; scored like the other item-item
 * models (history · B) and exported by the same ONNX graph.
 */
export const ease: Recommender = {
  kind: "ease",
  summary:
    "EASE^R: closed-form item-item regression (Steck 2019), exact dense float64 solve over the most popular items",
  parameters: {
    lambda: {
      default: 250,
      min: 0.001,
      max: 1e7,
      search: [10, 5000],
      logScale: true,
      help: "L2 weight λ added to the Gram matrix's diagonal",
    },
    neighbours: {
      default: 500,
      min: 1,
      max: 100_000,
      integer: true,
      search: [50, 2000],
      logScale: true,
      help: "weights of largest magnitude kept per candidate item (n − 1 or more keeps B whole)",
    },
    maxItems: {
      default: 20_000,
      min: 1,
      max: 30_000,
      integer: true,
      help: "only the most popular items up to this many enter the dense solve (memory 8·n² bytes several times over, time ∝ n³); the others get no weights",
    },
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const solution = await easeSolve(train, {
      lambda: params.lambda!,
      maxItems: params.maxItems!,
    });
    const result = easeWeights(solution, train.nItems, params.neighbours!);
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
