import type { ItemItemParams } from "../params.ts";
import { CONTENT_NEIGHBOURS, contentSimilarity, requireItemContent } from "./content.ts";
import { itemKnn } from "./item-knn.ts";
import { type Recommender, resolveParameters } from "./recommender.ts";

/** Each history item's row scaled to sum 1 (empty rows stay empty), as a fresh weight array. */
function rowShares(params: ItemItemParams): Float64Array {
  const shares = new Float64Array(params.weights.length);
  for (let h = 0; h < params.nItems; h++) {
    let sum = 0;
    for (let n = params.indptr[h]!; n < params.indptr[h + 1]!; n++) sum += params.weights[n]!;
    for (let n = params.indptr[h]!; n < params.indptr[h + 1]!; n++)
      shares[n] = sum > 0 ? params.weights[n]! / sum : 0;
  }
  return shares;
}

/**
 * S = (1 − w) · rows(S_collaborative) + w · rows(S_content), rows(·) scaling each history item's
 * row to sum 1 so the two similarities weigh the same before blending; the union of both
 * neighbour lists, candidates in ascending order per row.
 */
export function blendItemItem(
  collaborative: ItemItemParams,
  content: ItemItemParams,
  contentWeight: number,
): ItemItemParams {
  const nItems = collaborative.nItems;
  const parts = [
    { params: collaborative, shares: rowShares(collaborative), weight: 1 - contentWeight },
    { params: content, shares: rowShares(content), weight: contentWeight },
  ];
  const accumulator = new Float64Array(nItems);
  const seen = new Uint8Array(nItems);
  const indptr = new Int32Array(nItems + 1);
  const indices: number[] = [];
  const weights: number[] = [];
  const row: number[] = [];
  for (let h = 0; h < nItems; h++) {
    row.length = 0;
    for (const { params, shares, weight } of parts) {
      if (weight === 0) continue;
      for (let n = params.indptr[h]!; n < params.indptr[h + 1]!; n++) {
        const t = params.indices[n]!;
        if (!seen[t]) {
          seen[t] = 1;
          row.push(t);
        }
        accumulator[t]! += weight * shares[n]!;
      }
    }
    row.sort((a, b) => a - b);
    for (const t of row) {
      if (accumulator[t]! > 0) {
        indices.push(t);
        weights.push(accumulator[t]!);
      }
      accumulator[t] = 0;
      seen[t] = 0;
    }
    indptr[h + 1] = indices.length;
  }
  return {
    kind: "item-item",
    nItems,
    indptr,
    indices: Int32Array.from(indices),
    weights: Float32Array.from(weights),
  };
}

export const hybrid: Recommender = {
  kind: "hybrid",
  summary:
    "item-kNN blended with content similarity (needs --items): collaborative neighbours for known items, content neighbours for new ones",
  parameters: {
    contentWeight: {
      default: 0.5,
      min: 0,
      max: 1,
      search: [0, 1],
      help: "share of the content similarity in the blend (0 = item-kNN alone, 1 = content alone)",
    },
    contentNeighbours: CONTENT_NEIGHBOURS,
    neighbours: { ...itemKnn.parameters.neighbours!, help: "item-kNN neighbours per candidate" },
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const content = contentSimilarity(
      requireItemContent(train, "hybrid"),
      params.contentNeighbours!,
    );
    const collaborative = await itemKnn.fit(
      train,
      resolveParameters(itemKnn, { neighbours: params.neighbours }),
    );
    if (collaborative.kind !== "item-item") throw new Error("item-knn fits item-item params");
    const result = blendItemItem(collaborative, content, params.contentWeight!);
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
