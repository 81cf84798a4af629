import type { Interactions } from "../data/interactions.ts";
import type { ItemItemParams } from "../params.ts";
import {
  choiceParameter,
  type HyperParameters,
  type ParameterSpec,
  type Recommender,
} from "./recommender.ts";
import { PRUNE_CHOICES, topKItemItem } from "./similarity.ts";

/** Sum of each row's confidences (the walk's out-degree). */
function degrees(nRows: number, indptr: Int32Array, values: Float32Array): Float64Array {
  const degree = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    for (let e = indptr[r]!; e < indptr[r + 1]!; e++) degree[r]! += values[e]!;
  }
  return degree;
}

/**
 * The random walk item h → user u → item t with transition probabilities raised to α,
 * S[h, t] = Σ_u P(h→u)^α · P(u→t)^α / degree(t)^β, pruned and optionally row-normalised.
 */
function fitWalk(train: Interactions, params: HyperParameters, beta: number): ItemItemParams {
  const alpha = params.alpha!;
  const itemDegree = degrees(train.nItems, train.itemUsers.indptr, train.itemUsers.values);
  const userDegree = degrees(train.nUsers, train.userItems.indptr, train.userItems.values);
  const penalty = Float64Array.from(itemDegree, (degree) => (degree > 0 ? degree ** -beta : 0));
  return topKItemItem(
    train,
    {
      historyToUser: (item, _user, value) => (value / itemDegree[item]!) ** alpha,
      userToCandidate: (user, _item, value) => (value / userDegree[user]!) ** alpha,
      finish: (_h, t, raw) => raw * penalty[t]!,
    },
    {
      k: params.neighbours!,
      by: PRUNE_CHOICES[params.prune!]!,
      normalizeRows: params.normalize === 1,
    },
  );
}

const neighbours = (fallback: number): ParameterSpec => ({
  default: fallback,
  min: 1,
  max: 2000,
  search: [10, 1000],
  integer: true,
  logScale: true,
  help: "neighbours kept per candidate item (prune = column) or per history item (prune = row)",
});
const alphaSpec = (fallback: number): ParameterSpec => ({
  default: fallback,
  min: 0,
  max: 2,
  search: [0.2, 1.5],
  help: "exponent on transition probabilities",
});
const pruneSpec = (fallback: number) =>
  choiceParameter(PRUNE_CHOICES, "where the top-k neighbours are kept", { default: fallback });
const normalizeSpec = (fallback: number) =>
  choiceParameter(
    ["off", "on"],
    "scale each history item's row of the pruned similarity to sum 1",
    {
      default: fallback,
    },
  );

/**
 * RP3beta (Paudel et al. 2017): three-step random walk item → user → item with transition
 * probabilities raised to `alpha`, divided by the target's popularity^beta. beta = 0 is P3alpha.
 */
export const rp3beta: Recommender = {
  kind: "rp3beta",
  summary:
    "graph random-walk item-item similarity with a popularity penalty (RP3beta; P3alpha when beta = 0)",
  parameters: {
    neighbours: neighbours(415),
    alpha: alphaSpec(0.615),
    beta: {
      default: 0.35,
      min: 0,
      max: 1,
      search: [0, 1],
      help: "popularity penalty exponent (0 = P3alpha)",
    },
    prune: pruneSpec(0),
    normalize: normalizeSpec(0),
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const result = fitWalk(train, params, params.beta!);
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};

/**
 * P3alpha (Cooper et al. 2014): RP3beta without the popularity penalty. The published citeulike-t
 * baseline is α = 1, top-200 per candidate item, rows normalised; the defaults (α = 0.7, top-400)
 * were chosen on validation splits of the three data sets in packages/ml/README.md.
 */
export const p3alpha: Recommender = {
  kind: "p3alpha",
  summary: "graph random-walk item-item similarity (P3alpha: RP3beta with beta = 0)",
  parameters: {
    neighbours: neighbours(400),
    alpha: alphaSpec(0.7),
    prune: pruneSpec(0),
    normalize: normalizeSpec(1),
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const result = fitWalk(train, params, 0);
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
