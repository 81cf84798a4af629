import { type Csr, transposeCsr } from "../data/csr.ts";
import type { Interactions } from "../data/interactions.ts";
import type { ItemItemParams } from "../params.ts";
import { topK } from "./top-k.ts";

/**
 * Weights of a two-step walk row item a → user u → column item b:
 * raw(a, b) = Σ_u toUser[(a,u)] · toItem[(u,b)], with `toUser` aligned to itemUsers entries and
 * `toItem` aligned to userItems entries. `finish(a, b, raw)` turns raw into the similarity.
 * `rows` says what a row is: the "history" item (scores scatter from it) or the "target" item.
 */
export interface WalkWeights {
  toUser: Float32Array;
  toItem: Float32Array;
  finish: (row: number, column: number, raw: number) => number;
  rows: "history" | "target";
}

/**
 * Sparse item-item similarity keeping the `k` best columns of every row, returned in
 * "history item → targets" CSR so that scores = history · S is a scatter. Pruning per target
 * (rows: "target") keeps each candidate's k nearest history items (item-kNN); per history item
 * it keeps each item's k best successors (RP3beta, whose rows are transition probabilities).
 * Cost Σ_u |items(u)|², with one dense accumulator and a touched list (no per-pair objects).
 */
export function topKItemItem(train: Interactions, k: number, walk: WalkWeights): ItemItemParams {
  const { nItems, itemUsers, userItems } = train;
  const accumulator = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  const seen = new Uint8Array(nItems);
  const similarity = new Float64Array(nItems);
  const rowPtr = new Int32Array(nItems + 1);
  const rowItems: Int32Array[] = [];
  const rowWeights: Float32Array[] = [];
  for (let t = 0; t < nItems; t++) {
    let nTouched = 0;
    for (let e = itemUsers.indptr[t]!; e < itemUsers.indptr[t + 1]!; e++) {
      const u = itemUsers.indices[e]!;
      const w = walk.toUser[e]!;
      for (let f = userItems.indptr[u]!; f < userItems.indptr[u + 1]!; f++) {
        const h = userItems.indices[f]!;
        if (h === t) continue;
        if (!seen[h]) {
          seen[h] = 1;
          touched[nTouched++] = h;
        }
        accumulator[h]! += w * walk.toItem[f]!;
      }
    }
    for (let n = 0; n < nTouched; n++) {
      const h = touched[n]!;
      const value = walk.finish(t, h, accumulator[h]!);
      similarity[h] = value > 0 ? value : -Infinity;
    }
    const best = topK(similarity, k, touched, nTouched);
    for (let n = 0; n < nTouched; n++) {
      const h = touched[n]!;
      accumulator[h] = 0;
      seen[h] = 0;
      similarity[h] = 0;
    }
    rowItems.push(best.items);
    rowWeights.push(best.scores);
    rowPtr[t + 1] = rowPtr[t]! + best.items.length;
  }
  const indices = new Int32Array(rowPtr[nItems]!);
  const values = new Float32Array(rowPtr[nItems]!);
  for (let t = 0; t < nItems; t++) {
    indices.set(rowItems[t]!, rowPtr[t]!);
    values.set(rowWeights[t]!, rowPtr[t]!);
  }
  const computed: Csr = { nRows: nItems, nCols: nItems, indptr: rowPtr, indices, values };
  // Serving scatters per history item: rows computed per target are transposed.
  const byHistory = walk.rows === "history" ? computed : transposeCsr(computed);
  return {
    kind: "item-item",
    nItems,
    indptr: byHistory.indptr,
    indices: byHistory.indices,
    weights: byHistory.values,
  };
}
