import { type Csr, transposeCsr } from "../data/csr.ts";
import type { Interactions } from "../data/interactions.ts";
import type { ItemItemParams } from "../params.ts";
import { topK } from "./top-k.ts";

/**
 * A two-step walk history item h → user u → candidate item t:
 * raw(h, t) = Σ_u historyToUser(h, u) · userToCandidate(u, t), over the users who have both;
 * `finish(h, t, raw)` turns raw into the similarity S[h, t] (≤ 0 means "no edge").
 * Step weights are functions of one train entry (its item, user and confidence value).
 */
export interface ItemItemWalk {
  historyToUser: (item: number, user: number, value: number) => number;
  userToCandidate: (user: number, item: number, value: number) => number;
  finish: (history: number, candidate: number, raw: number) => number;
}

/**
 * Which neighbours survive pruning: per candidate item ("column": each candidate keeps the k
 * history items most similar to it, as item-kNN in the literature), or per history item ("row":
 * each history item keeps its k best successors, as a random walk's transition rows).
 */
export type PruneBy = "column" | "row";
export const PRUNE_CHOICES: readonly PruneBy[] = ["column", "row"];

export interface Pruning {
  k: number;
  by: PruneBy;
  /** scale each history item's row of the pruned S to sum 1 (empty rows stay empty) */
  normalizeRows: boolean;
}

/** The same walk weights laid out along the itemUsers and the userItems entries. */
function alignedWeights(
  train: Interactions,
  step: (item: number, user: number, value: number) => number,
): { byItem: Float64Array; byUser: Float64Array } {
  const { itemUsers, userItems } = train;
  const byItem = new Float64Array(itemUsers.values.length);
  for (let i = 0; i < train.nItems; i++) {
    for (let e = itemUsers.indptr[i]!; e < itemUsers.indptr[i + 1]!; e++)
      byItem[e] = step(i, itemUsers.indices[e]!, itemUsers.values[e]!);
  }
  const byUser = new Float64Array(userItems.values.length);
  for (let u = 0; u < train.nUsers; u++) {
    for (let f = userItems.indptr[u]!; f < userItems.indptr[u + 1]!; f++)
      byUser[f] = step(userItems.indices[f]!, u, userItems.values[f]!);
  }
  return { byItem, byUser };
}

/**
 * Sparse item-item similarity pruned to the k best entries per column or per row, returned in
 * "history item → candidates" CSR so that scores = history · S is a scatter.
 * Cost Σ_u |items(u)|², with one dense accumulator and a touched list (no per-pair objects).
 */
export function topKItemItem(
  train: Interactions,
  walk: ItemItemWalk,
  pruning: Pruning,
): ItemItemParams {
  const { nItems, itemUsers, userItems } = train;
  const toUser = alignedWeights(train, walk.historyToUser);
  const toCandidate = alignedWeights(train, (item, user, value) =>
    walk.userToCandidate(user, item, value),
  );
  // The outer item is the row of what is computed: a history item (rows) or a candidate (columns).
  const byRow = pruning.by === "row";
  const outerStep = byRow ? toUser.byItem : toCandidate.byItem;
  const innerStep = byRow ? toCandidate.byUser : toUser.byUser;
  const accumulator = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  const seen = new Uint8Array(nItems);
  const similarity = new Float64Array(nItems);
  const rowPtr = new Int32Array(nItems + 1);
  const rowItems: Int32Array[] = [];
  const rowWeights: Float32Array[] = [];
  for (let outer = 0; outer < nItems; outer++) {
    let nTouched = 0;
    for (let e = itemUsers.indptr[outer]!; e < itemUsers.indptr[outer + 1]!; e++) {
      const u = itemUsers.indices[e]!;
      const w = outerStep[e]!;
      for (let f = userItems.indptr[u]!; f < userItems.indptr[u + 1]!; f++) {
        const other = userItems.indices[f]!;
        if (other === outer) continue;
        if (!seen[other]) {
          seen[other] = 1;
          touched[nTouched++] = other;
        }
        accumulator[other]! += w * innerStep[f]!;
      }
    }
    for (let n = 0; n < nTouched; n++) {
      const other = touched[n]!;
      const raw = accumulator[other]!;
      const value = byRow ? walk.finish(outer, other, raw) : walk.finish(other, outer, raw);
      similarity[other] = value > 0 ? value : -Infinity;
    }
    const best = topK(similarity, pruning.k, touched, nTouched);
    for (let n = 0; n < nTouched; n++) {
      const other = touched[n]!;
      accumulator[other] = 0;
      seen[other] = 0;
      similarity[other] = 0;
    }
    rowItems.push(best.items);
    rowWeights.push(best.scores);
    rowPtr[outer + 1] = rowPtr[outer]! + best.items.length;
  }
  const indices = new Int32Array(rowPtr[nItems]!);
  const values = new Float32Array(rowPtr[nItems]!);
  for (let outer = 0; outer < nItems; outer++) {
    indices.set(rowItems[outer]!, rowPtr[outer]!);
    values.set(rowWeights[outer]!, rowPtr[outer]!);
  }
  const computed: Csr = { nRows: nItems, nCols: nItems, indptr: rowPtr, indices, values };
  // Serving scatters per history item: columns computed per candidate are transposed.
  const byHistory = byRow ? computed : transposeCsr(computed);
  if (pruning.normalizeRows) normalizeRows(byHistory);
  return {
    kind: "item-item",
    nItems,
    indptr: byHistory.indptr,
    indices: byHistory.indices,
    weights: byHistory.values,
  };
}

/** Each row scaled to sum 1, in place (sums in float64). */
function normalizeRows(matrix: Csr): void {
  for (let r = 0; r < matrix.nRows; r++) {
    let sum = 0;
    for (let n = matrix.indptr[r]!; n < matrix.indptr[r + 1]!; n++) sum += matrix.values[n]!;
    if (sum > 0) {
      for (let n = matrix.indptr[r]!; n < matrix.indptr[r + 1]!; n++) matrix.values[n]! /= sum;
    }
  }
}
