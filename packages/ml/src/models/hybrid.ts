import type { ItemItemParams } from "../params.ts";
import { CONTENT_NEIGHBOURS, contentSimilarity, requireItemContent } from "./content.ts";
import { itemKnn } from "./item-knn.ts";
import { type Recommender, resolveParameters } from "./recommender.ts";

/**
 * The weights divided by the mean row sum over non-empty rows: one scale per matrix, so the two
 * similarities weigh the same on average while each keeps its own contrast between history items
 * (scaling every row to sum 1 instead costs item-kNN a quarter of its recall on the demo data).
 */
function scaled(params: ItemItemParams): Float64Array {
  let total = 0;
  let rows = 0;
  for (let h = 0; h < params.nItems; h++) {
    if (params.indptr[h + 1] === params.indptr[h]) continue;
    rows++;
    for (let n = params.indptr[h]!; n < params.indptr[h + 1]!; n++) total += params.weights[n]!;
  }
  const scale = total > 0 ? rows / total : 0;
  return Float64Array.from(params.weights, (w) => w * scale);
}

/**
 * S = (1 − w) · S_collaborative / m_c + w · S_content / m_t, m the mean row sum of each over its
 * non-empty rows, so the two similarities weigh the same before blending; the union of both
 * neighbour lists, candidates in ascending order per row. A candidate in `withoutInteractions`
 * (a new item: no collaborative similarity can exist) takes its content similarity whole, so it
 * competes with known items on the same scale instead of at w times it.
 */
export function blendItemItem(
  collaborative: ItemItemParams,
  content: ItemItemParams,
  contentWeight: number,
  withoutInteractions?: Uint8Array,
  newItemWeight = 1,
): ItemItemParams {
  const nItems = collaborative.nItems;
  const parts = [
    { params: collaborative, shares: scaled(collaborative), weight: 1 - contentWeight },
    { params: content, shares: scaled(content), weight: contentWeight },
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
      if (weight === 0 && !(params === content && withoutInteractions)) continue;
      for (let n = params.indptr[h]!; n < params.indptr[h + 1]!; n++) {
        const t = params.indices[n]!;
        if (!seen[t]) {
          seen[t] = 1;
          row.push(t);
        }
        const full = params === content && withoutInteractions?.[t] === 1;
        accumulator[t]! += (full ? newItemWeight : weight) * shares[n]!;
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
      default: 0.3,
      min: 0,
      max: 1,
      search: [0, 1],
      help: "share of the content similarity in the blend (0 = item-kNN alone, 1 = content alone)",
    },
    newItemWeight: {
      default: 5,
      min: 0,
      max: 1000,
      search: [0.1, 100],
      logScale: true,
      help: "weight of the content similarity towards items without interactions (new items), in place of contentWeight",
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
    const { indptr } = train.itemUsers;
    const withoutInteractions = Uint8Array.from({ length: train.nItems }, (_, t) =>
      indptr[t + 1] === indptr[t] ? 1 : 0,
    );
    const result = blendItemItem(
      collaborative,
      content,
      params.contentWeight!,
      withoutInteractions,
      params.newItemWeight,
    );
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
