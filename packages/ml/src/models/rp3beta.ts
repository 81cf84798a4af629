import type { Recommender } from "./recommender.ts";
import { topKItemItem } from "./similarity.ts";

/**
 * RP3beta (Paudel et al. 2017): three-step random walk item → user → item with transition
 * probabilities raised to `alpha`, divided by the target's popularity^beta. beta = 0 is P3alpha.
 */
export const rp3beta: Recommender = {
  kind: "rp3beta",
  summary:
    "graph random-walk item-item similarity with a popularity penalty (RP3beta; P3alpha when beta = 0)",
  parameters: {
    neighbours: {
      default: 415,
      min: 1,
      max: 2000,
      search: [10, 1000],
      integer: true,
      logScale: true,
      help: "neighbours kept per item",
    },
    alpha: {
      default: 0.615,
      min: 0,
      max: 2,
      search: [0.2, 1.5],
      help: "exponent on transition probabilities",
    },
    beta: {
      default: 0.45,
      min: 0,
      max: 1,
      search: [0, 1],
      help: "popularity penalty exponent (0 = P3alpha)",
    },
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const { itemUsers, userItems, nItems, nUsers } = train;
    const alpha = params.alpha!;
    const beta = params.beta!;
    const itemDegree = new Float64Array(nItems);
    for (let i = 0; i < nItems; i++) {
      for (let e = itemUsers.indptr[i]!; e < itemUsers.indptr[i + 1]!; e++)
        itemDegree[i]! += itemUsers.values[e]!;
    }
    const userDegree = new Float64Array(nUsers);
    for (let u = 0; u < nUsers; u++) {
      for (let e = userItems.indptr[u]!; e < userItems.indptr[u + 1]!; e++)
        userDegree[u]! += userItems.values[e]!;
    }
    // Rows are history items h: P(h → u) on itemUsers entries, P(u → t) on userItems entries.
    const toUser = new Float32Array(itemUsers.values.length);
    for (let h = 0; h < nItems; h++) {
      for (let e = itemUsers.indptr[h]!; e < itemUsers.indptr[h + 1]!; e++) {
        toUser[e] = (itemUsers.values[e]! / itemDegree[h]!) ** alpha;
      }
    }
    const toItem = new Float32Array(userItems.values.length);
    for (let u = 0; u < nUsers; u++) {
      for (let e = userItems.indptr[u]!; e < userItems.indptr[u + 1]!; e++) {
        toItem[e] = (userItems.values[e]! / userDegree[u]!) ** alpha;
      }
    }
    const penalty = Float64Array.from(itemDegree, (degree) => (degree > 0 ? degree ** -beta : 0));
    const result = topKItemItem(train, params.neighbours!, {
      toUser,
      toItem,
      finish: (_h, t, raw) => raw * penalty[t]!,
      rows: "history",
    });
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
