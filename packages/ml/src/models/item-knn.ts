import type { Recommender } from "./recommender.ts";
import { topKItemItem } from "./similarity.ts";

/** Item-kNN: cosine similarity of item columns with shrinkage, s = a·b / (|a||b| + shrink). */
export const itemKnn: Recommender = {
  kind: "item-knn",
  summary: "item-item cosine similarity with shrinkage, top-k neighbours per item",
  parameters: {
    neighbours: {
      default: 310,
      min: 1,
      max: 2000,
      search: [10, 1000],
      integer: true,
      logScale: true,
      help: "neighbours kept per item",
    },
    shrink: {
      default: 61.4,
      min: 0,
      max: 1000,
      search: [0, 200],
      help: "shrinkage added to the cosine denominator",
    },
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const { itemUsers, userItems } = train;
    const norms = new Float64Array(train.nItems);
    for (let i = 0; i < train.nItems; i++) {
      let sum = 0;
      for (let e = itemUsers.indptr[i]!; e < itemUsers.indptr[i + 1]!; e++)
        sum += itemUsers.values[e]! ** 2;
      norms[i] = Math.sqrt(sum);
    }
    const shrink = params.shrink!;
    const result = topKItemItem(train, params.neighbours!, {
      toUser: itemUsers.values,
      toItem: userItems.values,
      finish: (t, h, raw) => raw / (norms[t]! * norms[h]! + shrink + 1e-12),
      rows: "target",
    });
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
