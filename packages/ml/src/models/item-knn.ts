import { choiceParameter, type Recommender } from "./recommender.ts";
import { PRUNE_CHOICES, topKItemItem } from "./similarity.ts";

/**
 * Item-kNN: asymmetric cosine of item columns with shrinkage and a popularity penalty,
 * S[h, t] = (h·t) / (|h|^(2α) · |t|^(2(1−α)) + shrink) / users(t)^β, h the history item and t
 * the candidate (α = 0.5 is the plain cosine, as in Aiolli 2013 and Dacrema et al. 2019).
 */
export const itemKnn: Recommender = {
  kind: "item-knn",
  summary:
    "item-item cosine similarity (asymmetric α, shrinkage, popularity penalty), top-k neighbours per candidate or history item",
  parameters: {
    neighbours: {
      default: 150,
      min: 1,
      max: 2000,
      search: [10, 1000],
      integer: true,
      logScale: true,
      help: "neighbours kept per candidate item (prune = column) or per history item (prune = row)",
    },
    shrink: {
      default: 61.4,
      min: 0,
      max: 1000,
      search: [0, 200],
      help: "shrinkage added to the cosine denominator",
    },
    alpha: {
      default: 0.7,
      min: 0,
      max: 1,
      search: [0, 1],
      help: "asymmetric cosine: exponent 2α on the history item's norm, 2(1−α) on the candidate's (0.5 = cosine)",
    },
    popularityPenalty: {
      default: 0,
      min: 0,
      max: 2,
      search: [0, 1],
      help: "similarities divided by the candidate's number of users to this power (0 = none)",
    },
    prune: choiceParameter(PRUNE_CHOICES, "where the top-k neighbours are kept"),
    normalize: choiceParameter(
      ["off", "on"],
      "scale each history item's row of the pruned similarity to sum 1",
    ),
  },
  async fit(train, params, hooks) {
    const started = performance.now();
    const { itemUsers } = train;
    const norms = new Float64Array(train.nItems);
    const users = new Float64Array(train.nItems);
    for (let i = 0; i < train.nItems; i++) {
      let sum = 0;
      for (let e = itemUsers.indptr[i]!; e < itemUsers.indptr[i + 1]!; e++)
        sum += itemUsers.values[e]! ** 2;
      norms[i] = Math.sqrt(sum);
      users[i] = itemUsers.indptr[i + 1]! - itemUsers.indptr[i]!;
    }
    const { shrink, alpha, popularityPenalty } = params as Record<string, number>;
    const historyNorm = Float64Array.from(norms, (n) => n ** (2 * alpha!));
    const candidateNorm = Float64Array.from(norms, (n) => n ** (2 * (1 - alpha!)));
    const penalty = Float64Array.from(users, (n) => (n > 0 ? n ** -popularityPenalty! : 0));
    const result = topKItemItem(
      train,
      {
        historyToUser: (_item, _user, value) => value,
        userToCandidate: (_user, _item, value) => value,
        finish: (h, t, raw) =>
          (raw / (historyNorm[h]! * candidateNorm[t]! + shrink! + 1e-12)) * penalty[t]!,
      },
      {
        k: params.neighbours!,
        by: PRUNE_CHOICES[params.prune!]!,
        normalizeRows: params.normalize === 1,
      },
    );
    hooks?.onProgress?.({ epoch: 1, epochs: 1, elapsedMs: performance.now() - started });
    return result;
  },
};
